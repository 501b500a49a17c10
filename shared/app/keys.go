package app

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/ekolek/identity/shared/awsenv"
	"github.com/ekolek/identity/shared/clock"
	"github.com/ekolek/identity/shared/config"
	"github.com/ekolek/identity/shared/secret"
	"github.com/ekolek/identity/shared/token"
)

// openKeys returns cfg with its keys filled in, and the token keys made of
// them. Keys given in the environment are used as they are and never
// change. Otherwise they come from the Secrets Manager secrets cfg names,
// all read at once (a cold start waits one round trip): the data key once,
// the signing key's current and previous versions then kept fresh while
// the function runs (token.Keys), so a rotation logs nobody out. Locally,
// without a data key, the signing key serves as one.
func openKeys(ctx context.Context, cfg config.Config, loadAWS func() (aws.Config, error), c clock.Clock) (config.Config, *token.Keys, error) {
	fromSecret := cfg.SigningKey == nil && cfg.SigningKeySecretARN != ""
	dataFromSecret := cfg.DataKey == nil && cfg.DataKeySecretARN != ""
	var sm secret.API
	if fromSecret || dataFromSecret {
		awsCfg, err := loadAWS()
		if err != nil {
			return cfg, nil, err
		}
		sm = secretsmanager.NewFromConfig(awsenv.For(awsCfg, "SECRETS_MANAGER"))
	}

	dataKey := make(chan error, 1)
	go func() {
		var err error
		if dataFromSecret {
			if cfg.DataKey, err = secret.Key(ctx, sm, cfg.DataKeySecretARN, secret.Current); err != nil {
				err = fmt.Errorf("EKOLEK_DATA_KEY_SECRET_ARN: %w", err)
			}
		}
		dataKey <- err
	}()
	var (
		keys *token.Keys
		err  error
	)
	if fromSecret {
		src := secret.SigningKeys(sm, cfg.SigningKeySecretARN)
		var previous [][]byte
		if cfg.SigningKey, previous, err = src(ctx); err != nil {
			err = fmt.Errorf("EKOLEK_SIGNING_KEY_SECRET_ARN: %w", err)
		} else {
			if len(previous) > 0 {
				cfg.PreviousSigningKey = previous[0]
			}
			keys, err = token.Refreshing(src, c, cfg.SigningKey, previous...)
		}
	} else {
		var previous [][]byte
		if cfg.PreviousSigningKey != nil {
			previous = append(previous, cfg.PreviousSigningKey)
		}
		keys, err = token.NewKeys(cfg.SigningKey, previous...)
	}
	if derr := <-dataKey; err == nil {
		err = derr
	}
	if err != nil {
		return cfg, nil, err
	}
	if cfg.DataKey == nil {
		cfg.DataKey = cfg.SigningKey
	}
	return cfg, keys, nil
}
