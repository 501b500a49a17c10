package app

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/ekolek/identity/shared/config"
	"github.com/ekolek/identity/shared/httpapi"
	"github.com/ekolek/identity/shared/logging"
)

// StartLambda runs the named function under the Lambda runtime, built from
// the environment with parts; it does not return. A function that cannot
// start logs why and exits, which Lambda reports as an init error.
func StartLambda(function string, parts Parts) {
	h, err := LambdaHandler(context.Background(), function, parts)
	if err != nil {
		logging.New(os.Stderr, slog.LevelInfo).Error("start-up failed", "function", function, "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(h)
}

// LambdaHandler builds, from the environment, the API Gateway (REST, v1
// payload) handler of one function: the same http.Handler the local API
// serves, behind aws-lambda-go-api-proxy.
func LambdaHandler(ctx context.Context, function string, parts Parts) (func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error), error) {
	log := logging.New(os.Stdout, slog.LevelInfo).With("function", function)
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return nil, err
	}
	if httpapi.PagesOnly(function) {
		h, err := PagesHandler(function, cfg, log, parts)
		if err != nil {
			return nil, err
		}
		return httpadapter.New(h).ProxyWithContext, nil
	}
	a, err := Open(ctx, cfg, log, Options{Parts: parts})
	if err != nil {
		return nil, err
	}
	h, err := a.Handler(function)
	if err != nil {
		return nil, err
	}
	return httpadapter.New(h).ProxyWithContext, nil
}

// StartSender runs function sender under the Lambda runtime, built from
// the environment with parts: the table's stream records in, each
// message delivered, the ones to retry reported as batch item failures
// (sender.HandleStream). It does not return.
func StartSender(parts Parts) {
	h, err := SenderHandler(context.Background(), parts)
	if err != nil {
		logging.New(os.Stderr, slog.LevelInfo).Error("start-up failed", "function", "sender", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(h)
}

// SenderHandler builds, from the environment, function sender's handler
// of DynamoDB Stream events.
func SenderHandler(ctx context.Context, parts Parts) (func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error), error) {
	log := logging.New(os.Stdout, slog.LevelInfo).With("function", "sender")
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return nil, err
	}
	a, err := Open(ctx, cfg, log, Options{Parts: parts})
	if err != nil {
		return nil, err
	}
	s, err := a.Sender()
	if err != nil {
		return nil, err
	}
	return s.HandleStream, nil
}
