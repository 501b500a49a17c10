// Command sessions is a Lambda function: it serves the "sessions" rows of the
// route table (shared/httpapi/routes.go) behind API Gateway.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/ekolek/identity/shared/app"
	"github.com/ekolek/identity/shared/logging"
)

func main() {
	h, err := app.LambdaHandler(context.Background(), "sessions")
	if err != nil {
		logging.New(os.Stderr, slog.LevelInfo).Error("start-up failed", "function", "sessions", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(h)
}
