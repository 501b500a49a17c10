// Command logout is the logout Lambda function: the routes of the "logout" rows of the
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
	h, err := app.LambdaHandler(context.Background(), "logout")
	if err != nil {
		slog.Error("start-up failed", "function", "logout", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(h)
}
