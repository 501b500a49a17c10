package app

import (
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ekolek/identity/shared/awsenv"
	"github.com/ekolek/identity/shared/config"
	"github.com/ekolek/identity/shared/store/backend"
	"github.com/ekolek/identity/shared/store/dynamo"
	"github.com/ekolek/identity/shared/store/embedded"
)

// openStore opens the store cfg names (EKOLEK_STORE) and returns what
// closes it: the embedded store's file in cfg.DataDir (closing releases
// the file), or the DynamoDB table cfg.Table through the AWS configuration
// (nothing to close).
func openStore(cfg config.Config, loadAWS func() (aws.Config, error)) (backend.Store, func() error, error) {
	switch cfg.Store {
	case "embedded":
		s, err := embedded.Open(cfg.DataDir)
		if err != nil {
			return nil, nil, err
		}
		return s, s.Close, nil
	case "dynamodb":
		c, err := loadAWS()
		if err != nil {
			return nil, nil, err
		}
		return dynamo.New(dynamodb.NewFromConfig(awsenv.For(c, "DYNAMODB")), cfg.Table), nil, nil
	}
	return nil, nil, errors.New("EKOLEK_STORE: unknown store " + cfg.Store)
}
