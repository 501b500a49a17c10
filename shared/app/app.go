// Package app builds the whole system from a Config: the store the config
// names, the domain services and the HTTP handler. Lambda mains, the local API
// and the operator CLI all start here, so they cannot drift apart.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/clock"
	"github.com/ekolek/identity/shared/config"
	"github.com/ekolek/identity/shared/httpapi"
	"github.com/ekolek/identity/shared/password"
	"github.com/ekolek/identity/shared/session"
	"github.com/ekolek/identity/shared/store/dynamo"
	"github.com/ekolek/identity/shared/store/embedded"
	"github.com/ekolek/identity/shared/token"
)

// Store is everything the system keeps.
type Store interface {
	account.Store
	session.Store
}

// App is a built system.
type App struct {
	Config   config.Config
	Store    Store
	Accounts *account.Service
	Sessions *session.Manager
	Clock    clock.Clock
	Log      *slog.Logger
	closers  []func() error
}

// Options changes what Open builds; the zero value is production wiring.
type Options struct {
	// Clock replaces the system clock (tests).
	Clock clock.Clock
	// Store replaces the store the config names (tests).
	Store Store
	// DynamoAPI wraps or replaces the DynamoDB client (tests count its calls).
	DynamoAPI func(dynamo.API) dynamo.API
	// Hash sets the argon2id parameters (default password.DefaultParams).
	Hash *password.Params
}

// Open builds the system for cfg. The caller must Close it.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger, opt Options) (*App, error) {
	a := &App{Config: cfg, Log: log, Clock: opt.Clock}
	if a.Clock == nil {
		a.Clock = clock.System{}
	}
	var awsCfg *aws.Config
	loadAWS := func() (aws.Config, error) {
		if awsCfg == nil {
			c, err := awsconfig.LoadDefaultConfig(ctx)
			if err != nil {
				return aws.Config{}, fmt.Errorf("aws configuration: %w", err)
			}
			awsCfg = &c
		}
		return *awsCfg, nil
	}

	if cfg.SigningKey == nil && cfg.SigningKeySecretARN != "" {
		c, err := loadAWS()
		if err != nil {
			return nil, err
		}
		sm := secretsmanager.NewFromConfig(c)
		err = cfg.ResolveSigningKey(ctx, func(ctx context.Context, arn string) (string, error) {
			out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
			if err != nil {
				return "", err
			}
			return aws.ToString(out.SecretString), nil
		})
		if err != nil {
			return nil, err
		}
		a.Config = cfg
	}
	keys, err := token.NewKeys(cfg.SigningKey, nonEmpty(cfg.PreviousSigningKey)...)
	if err != nil {
		return nil, err
	}

	switch {
	case opt.Store != nil:
		a.Store = opt.Store
	case cfg.Store == "embedded":
		s, err := embedded.Open(cfg.DataDir)
		if err != nil {
			return nil, err
		}
		a.Store = s
		a.closers = append(a.closers, s.Close)
	case cfg.Store == "dynamodb":
		c, err := loadAWS()
		if err != nil {
			return nil, err
		}
		var api dynamo.API = dynamodb.NewFromConfig(c)
		if opt.DynamoAPI != nil {
			api = opt.DynamoAPI(api)
		}
		a.Store = dynamo.New(api, cfg.Table)
	default:
		return nil, errors.New("EKOLEK_STORE: unknown store " + cfg.Store)
	}

	params := password.DefaultParams
	if opt.Hash != nil {
		params = *opt.Hash
	}
	a.Accounts = account.NewService(a.Store, password.NewHasher(params), a.Clock)
	a.Sessions = session.NewManager(a.Store, keys, a.Clock, map[account.Realm]session.Lifetimes{
		account.Resident: {Idle: cfg.ResidentIdleTimeout, Absolute: cfg.ResidentSessionTTL},
		account.Admin:    {Idle: cfg.AdminIdleTimeout, Absolute: cfg.AdminSessionTTL},
	})
	return a, nil
}

// Handler returns the HTTP handler for the named functions' routes (all routes when none).
func (a *App) Handler(functions ...string) (*httpapi.API, error) {
	return httpapi.New(httpapi.Deps{
		Accounts:   a.Accounts,
		Sessions:   a.Sessions,
		Clock:      a.Clock,
		Log:        a.Log,
		Production: a.Config.Env == config.Production,
	}, functions...)
}

// Close releases the store.
func (a *App) Close() error {
	var errs []error
	for _, c := range a.closers {
		errs = append(errs, c())
	}
	return errors.Join(errs...)
}

func nonEmpty(k []byte) [][]byte {
	if k == nil {
		return nil
	}
	return [][]byte{k}
}
