package app

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/ekolek/identity/shared/config"
	"github.com/ekolek/identity/shared/logging"
)

// LambdaHandler builds, from the environment, the API Gateway (REST, v1
// payload) handler of one function: the same http.Handler the local API
// serves, behind aws-lambda-go-api-proxy.
func LambdaHandler(ctx context.Context, function string) (func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error), error) {
	log := logging.New(os.Stdout, slog.LevelInfo).With("function", function)
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return nil, err
	}
	a, err := Open(ctx, cfg, log, Options{})
	if err != nil {
		return nil, err
	}
	h, err := a.Handler(function)
	if err != nil {
		return nil, err
	}
	return httpadapter.New(h).ProxyWithContext, nil
}
