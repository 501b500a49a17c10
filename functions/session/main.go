// Command session is the session Lambda function: the routes of the "session" rows of the
// route table (shared/httpapi/routes.go), served through API Gateway.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/ekolek/identity/shared/app"
)

func main() {
	h, err := app.LambdaHandler(context.Background(), "session")
	if err != nil {
		slog.Error("start-up failed", "function", "session", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(h)
}
