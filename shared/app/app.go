// Package app builds the system from a Config: the store the config names,
// the domain services and the HTTP handler. Lambda mains, the local API and
// the operator CLI all start here, so they cannot drift apart. What differs
// between them is the Parts each links: a function only those its routes use.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/audit"
	"github.com/ekolek/identity/shared/awsenv"
	"github.com/ekolek/identity/shared/clock"
	"github.com/ekolek/identity/shared/code"
	"github.com/ekolek/identity/shared/config"
	"github.com/ekolek/identity/shared/contact"
	"github.com/ekolek/identity/shared/httpapi"
	"github.com/ekolek/identity/shared/notify"
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

// Parts are the pieces only some functions link, because each is large or
// slow to start (docs/deploy.md has the numbers): libphonenumber, zxcvbn, the
// SES and SNS clients, and the AWS SDK's full configuration loader. Each
// function's main names those its routes need (httpapi.Route.Needs), and
// App.Handler refuses a function that lacks one; the local API, ekolekctl
// and the tests use all of them (package allparts).
type Parts struct {
	// Phone reads phone numbers (phone.Normalize).
	Phone func(string) (string, error)
	// Password judges new passwords (strength.Check).
	Password password.Policy
	// Messenger returns the notifier that sends email and SMS through AWS
	// (awsnotify.New), for EKOLEK_NOTIFIER=aws.
	Messenger func(c aws.Config, emailFrom string) notify.Notifier
	// AWSConfig loads the AWS configuration; nil reads only what Lambda
	// puts in the environment (awsenv.Load).
	AWSConfig func(context.Context) (aws.Config, error)
	// Pages builds the handler of the pages (web.New): the embedded portal
	// and console, for the routes that need httpapi.NeedsPages.
	Pages func() (http.Handler, error)
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
	// Notifier sends this program's messages; nil when it sends none.
	Notifier notify.Notifier
	// Outbox is set when messages go to the local outbox instead of out.
	Outbox  outbox.Store
	Clock   clock.Clock
	Log     *slog.Logger
	closers []func() error
	// has is what the parts built into this App provide.
	has    httpapi.Needs
	checks account.Checks
	// resetFloor overrides httpapi.ResetRequestFloor (tests).
	resetFloor time.Duration
	pages      http.Handler
}

// Options changes what Open builds.
type Options struct {
	// Parts are the optional pieces this program links.
	Parts Parts
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
			load := opt.Parts.AWSConfig
			if load == nil {
				load = func(context.Context) (aws.Config, error) { return awsenv.Load() }
			}
			c, err := load(ctx)
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
		sm := secretsmanager.NewFromConfig(awsenv.For(c, "SECRETS_MANAGER"))
		get := func(ctx context.Context, stage string) (string, error) {
			out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
				SecretId: aws.String(cfg.SigningKeySecretARN), VersionStage: aws.String(stage),
			})
			if err != nil {
				return "", err
			}
			return aws.ToString(out.SecretString), nil
		}
		// During a rotation the previous version still verifies the tokens
		// other (warm) instances signed with it. Both versions are read at
		// once, so a cold start waits for one round trip, not two; there is
		// no previous version until the first rotation.
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
		err = cfg.ResolveSigningKey(ctx, func(ctx context.Context, _ string) (string, error) { return get(ctx, "AWSCURRENT") })
		cfg.PreviousSigningKey = <-previous
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
		var api dynamo.API = dynamodb.NewFromConfig(awsenv.For(c, "DYNAMODB"))
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
	case opt.Parts.Messenger != nil:
		c, err := loadAWS()
		if err != nil {
			return nil, err
		}
		notifier = opt.Parts.Messenger(c, cfg.EmailFrom)
	}
	// Without a notifier this program sends nothing; Handler refuses the
	// functions whose routes send.
	if notifier != nil {
		a.has |= httpapi.NeedsMessages
	}
	a.Notifier = notifier
	checks := account.Checks{Phone: opt.Parts.Phone, Password: opt.Parts.Password}
	if checks.Phone != nil {
		a.has |= httpapi.NeedsPhone
	}
	if checks.Password != nil {
		a.has |= httpapi.NeedsPasswordPolicy
	}

	params := password.DefaultParams
	if opt.Hash != nil {
		params = *opt.Hash
	}
	hasher := password.NewHasher(params)
	a.Accounts = account.NewService(a.Store, hasher, checks, cfg.Barangays, a.Clock)
	a.Sessions = session.NewManager(a.Store, keys, a.Clock, map[account.Realm]session.Lifetimes{
		account.Resident: {Idle: cfg.ResidentIdleTimeout, Absolute: cfg.ResidentSessionTTL},
		account.Admin:    {Idle: cfg.AdminIdleTimeout, Absolute: cfg.AdminSessionTTL},
	})
	a.Guard = throttle.NewGuard(a.Store, cfg.Limits, a.Clock)
	a.Audit = audit.NewRecorder(a.Store, log, a.Clock, cfg.AuditRetention)
	codes := code.NewEngine(a.Store, a.Store, cfg.SigningKey, a.Clock)
	sender := code.NewSender(notifier, a.Store, a.Guard, cfg.SMSDailyCap, a.Clock)
	a.Contact = contact.NewService(a.Store, codes, sender, checks, a.Clock, log)
	a.Reset = reset.NewService(a.Store, codes, sender, hasher, checks, keys, a.Clock, log)
	a.checks = checks
	a.resetFloor = opt.ResetFloor
	if opt.Parts.Pages != nil {
		if a.pages, err = opt.Parts.Pages(); err != nil {
			return nil, err
		}
		a.has |= httpapi.NeedsPages
	}
	return a, nil
}

// PagesHandler is the handler of a function that only serves pages
// (httpapi.PagesOnly): it opens no store and needs no signing key, and the
// template gives it no access to either.
func PagesHandler(function string, cfg config.Config, log *slog.Logger, parts Parts) (*httpapi.API, error) {
	if !httpapi.PagesOnly(function) {
		return nil, fmt.Errorf("app: %s serves more than pages", function)
	}
	if parts.Pages == nil {
		return nil, fmt.Errorf("app: [%s]: built without %v, which its routes use (add it to the function's app.Parts)", function, missingParts(httpapi.NeedsPages, cfg.Notifier))
	}
	pages, err := parts.Pages()
	if err != nil {
		return nil, err
	}
	return httpapi.New(httpapi.Deps{
		Pages:      pages,
		Clock:      clock.System{},
		Log:        log,
		Production: cfg.Env == config.Production,
	}, function)
}

// Handler returns the HTTP handler for the named functions' routes (all
// routes when none). It refuses when those routes need a part this program
// was built without.
func (a *App) Handler(functions ...string) (*httpapi.API, error) {
	if missing := httpapi.NeedsOf(functions...) &^ a.has; missing != 0 {
		return nil, fmt.Errorf("app: %v: built without %v, which its routes use (add it to the function's app.Parts)", functions, missingParts(missing, a.Config.Notifier))
	}
	return httpapi.New(httpapi.Deps{
		Accounts:   a.Accounts,
		Checks:     a.checks,
		Sessions:   a.Sessions,
		Contact:    a.Contact,
		Reset:      a.Reset,
		Guard:      a.Guard,
		Audit:      a.Audit,
		Events:     a.Store,
		Outbox:     a.Outbox,
		Pages:      a.pages,
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

// missingParts names the parts in n.
func missingParts(n httpapi.Needs, notifier string) []string {
	var out []string
	if n&httpapi.NeedsPhone != 0 {
		out = append(out, "Phone")
	}
	if n&httpapi.NeedsPasswordPolicy != 0 {
		out = append(out, "Password")
	}
	if n&httpapi.NeedsMessages != 0 {
		out = append(out, "Messenger (EKOLEK_NOTIFIER="+notifier+")")
	}
	if n&httpapi.NeedsPages != 0 {
		out = append(out, "Pages")
	}
	return out
}

func nonEmpty(k []byte) [][]byte {
	if k == nil {
		return nil
	}
	return [][]byte{k}
}
