package app

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/ekolek/identity/shared/awsenv"
	"github.com/ekolek/identity/shared/config"
	"github.com/ekolek/identity/shared/token"
)

// signingKeys returns cfg with its signing keys filled in and the token keys
// made of them. A key given in the environment is used as it is; otherwise
// the key comes from the Secrets Manager secret cfg names.
func signingKeys(ctx context.Context, cfg config.Config, loadAWS func() (aws.Config, error)) (config.Config, *token.Keys, error) {
	if cfg.SigningKey == nil && cfg.SigningKeySecretARN != "" {
		c, err := loadAWS()
		if err != nil {
			return cfg, nil, err
		}
		if cfg, err = keysFromSecret(ctx, cfg, secretsmanager.NewFromConfig(awsenv.For(c, "SECRETS_MANAGER"))); err != nil {
			return cfg, nil, err
		}
	}
	var previous [][]byte
	if cfg.PreviousSigningKey != nil {
		previous = append(previous, cfg.PreviousSigningKey)
	}
	keys, err := token.NewKeys(cfg.SigningKey, previous...)
	return cfg, keys, err
}

// keysFromSecret reads the current version of cfg's secret as the signing
// key and, unless cfg has one, the previous version as the previous key.
// During a rotation the previous version still verifies the tokens other
// (warm) instances signed with it. Both versions are read at once, so a
// cold start waits for one round trip, not two; there is no previous
// version until the first rotation.
func keysFromSecret(ctx context.Context, cfg config.Config, sm *secretsmanager.Client) (config.Config, error) {
	get := func(ctx context.Context, stage string) (string, error) {
		out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
			SecretId: aws.String(cfg.SigningKeySecretARN), VersionStage: aws.String(stage),
		})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.SecretString), nil
	}
	previous := make(chan []byte, 1)
	if cfg.PreviousSigningKey == nil {
		go func() {
			s, err := get(ctx, "AWSPREVIOUS")
			k, kerr := config.KeyFromSecret(s)
			if err != nil || kerr != nil {
				k = nil
			}
			previous <- k
		}()
	} else {
		previous <- cfg.PreviousSigningKey
	}
	err := cfg.ResolveSigningKey(ctx, func(ctx context.Context, _ string) (string, error) { return get(ctx, "AWSCURRENT") })
	cfg.PreviousSigningKey = <-previous
	return cfg, err
}
