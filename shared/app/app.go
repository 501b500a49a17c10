// Package app builds the whole system from a Config: the store the config
// names, the domain services and the HTTP handler. Lambda mains, the local API
// and the operator CLI all start here, so they cannot drift apart.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/audit"
	"github.com/ekolek/identity/shared/clock"
	"github.com/ekolek/identity/shared/code"
	"github.com/ekolek/identity/shared/config"
	"github.com/ekolek/identity/shared/contact"
	"github.com/ekolek/identity/shared/httpapi"
	"github.com/ekolek/identity/shared/notify"
	sesnotify "github.com/ekolek/identity/shared/notify/ses"
	snsnotify "github.com/ekolek/identity/shared/notify/sns"
	"github.com/ekolek/identity/shared/outbox"
	"github.com/ekolek/identity/shared/password"
	"github.com/ekolek/identity/shared/reset"
	"github.com/ekolek/identity/shared/session"
	"github.com/ekolek/identity/shared/store/dynamo"
	"github.com/ekolek/identity/shared/store/embedded"
	"github.com/ekolek/identity/shared/throttle"
	"github.com/ekolek/identity/shared/token"
)

// Store is everything the system keeps.
type Store interface {
	account.Store
	session.Store
	throttle.Store
	code.Store
	outbox.Store
	audit.Store
	VerifyContact(ctx context.Context, a account.Account, r code.Record) error
	ResetPassword(ctx context.Context, a account.Account, r code.Record, keep []string) (int, error)
}

// App is a built system.
type App struct {
	Config   config.Config
	Store    Store
	Accounts *account.Service
	Sessions *session.Manager
	Contact  *contact.Service
	Reset    *reset.Service
	Guard    *throttle.Guard
	Audit    *audit.Recorder
	// Outbox is set when messages go to the local outbox instead of out.
	Outbox  outbox.Store
	Clock   clock.Clock
	Log     *slog.Logger
	closers []func() error
	// resetFloor overrides httpapi.ResetRequestFloor (tests).
	resetFloor time.Duration
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
	// Notifier replaces the notifier the config names (tests).
	Notifier notify.Notifier
	// ResetFloor overrides how long reset requests take at least (tests).
	ResetFloor time.Duration
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
		// During a rotation the previous version still verifies the
		// tokens other (warm) instances signed with it.
		if cfg.PreviousSigningKey == nil {
			out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
				SecretId: aws.String(cfg.SigningKeySecretARN), VersionStage: aws.String("AWSPREVIOUS"),
			})
			if err == nil {
				if k, err := config.DecodeKey(aws.ToString(out.SecretString)); err == nil {
					cfg.PreviousSigningKey = k
				} else if len(aws.ToString(out.SecretString)) >= token.MinKeyLen {
					cfg.PreviousSigningKey = []byte(aws.ToString(out.SecretString))
				}
			}
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

	var notifier notify.Notifier
	switch {
	case opt.Notifier != nil:
		notifier = opt.Notifier
	case cfg.Notifier == "outbox":
		notifier = outbox.New(a.Store, a.Clock)
		a.Outbox = a.Store
	default:
		c, err := loadAWS()
		if err != nil {
			return nil, err
		}
		notifier = notify.Router{
			Email: sesnotify.New(ses.NewFromConfig(c), cfg.EmailFrom),
			SMS:   snsnotify.New(sns.NewFromConfig(c), snsnotify.Options{SenderID: "EKOLEK"}),
		}
	}

	params := password.DefaultParams
	if opt.Hash != nil {
		params = *opt.Hash
	}
	hasher := password.NewHasher(params)
	a.Accounts = account.NewService(a.Store, hasher, a.Clock)
	a.Sessions = session.NewManager(a.Store, keys, a.Clock, map[account.Realm]session.Lifetimes{
		account.Resident: {Idle: cfg.ResidentIdleTimeout, Absolute: cfg.ResidentSessionTTL},
		account.Admin:    {Idle: cfg.AdminIdleTimeout, Absolute: cfg.AdminSessionTTL},
	})
	a.Guard = throttle.NewGuard(a.Store, cfg.Limits, a.Clock)
	a.Audit = audit.NewRecorder(a.Store, log, a.Clock, cfg.AuditRetention)
	codes := code.NewEngine(a.Store, a.Store, cfg.SigningKey, a.Clock)
	sender := code.NewSender(notifier, a.Store, a.Guard, cfg.SMSDailyCap, a.Clock)
	a.Contact = contact.NewService(a.Store, codes, sender, a.Clock, log)
	a.Reset = reset.NewService(a.Store, codes, sender, hasher, keys, a.Clock, log)
	a.resetFloor = opt.ResetFloor
	return a, nil
}

// Handler returns the HTTP handler for the named functions' routes (all routes when none).
func (a *App) Handler(functions ...string) (*httpapi.API, error) {
	return httpapi.New(httpapi.Deps{
		Accounts:   a.Accounts,
		Sessions:   a.Sessions,
		Contact:    a.Contact,
		Reset:      a.Reset,
		Guard:      a.Guard,
		Audit:      a.Audit,
		Events:     a.Store,
		Outbox:     a.Outbox,
		ResetFloor: a.resetFloor,
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
