// Command login is the login Lambda function: the routes of the "login" rows of the
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
	h, err := app.LambdaHandler(context.Background(), "login")
	if err != nil {
		slog.Error("start-up failed", "function", "login", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(h)
}
