// Package app builds the system from a Config: the store the config names,
// the domain services and the HTTP handler. Lambda mains, the local API and
// the operator CLI all start here, so they cannot drift apart. What differs
// between them is the Parts each links: a function only those its routes use.
//
// Open reads alone by concern: the signing keys (keys.go), the store
// (store.go), the notifier (notifier.go) and the services (services.go);
// the optional parts are described once, in PartTable (parts.go).
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/awsenv"
	"github.com/ekolek/identity/shared/clock"
	"github.com/ekolek/identity/shared/config"
	"github.com/ekolek/identity/shared/httpapi"
	"github.com/ekolek/identity/shared/logging"
	"github.com/ekolek/identity/shared/mfa"
	"github.com/ekolek/identity/shared/notify"
	"github.com/ekolek/identity/shared/outbox"
	"github.com/ekolek/identity/shared/password"
	"github.com/ekolek/identity/shared/sender"
	"github.com/ekolek/identity/shared/store/backend"
	"github.com/ekolek/identity/shared/token"
)

// App is a built system.
type App struct {
	Config config.Config
	Store  backend.Store
	// Services have every part this program links: the operator CLI and
	// the tests call them directly. A handler gets services of its own,
	// with only the parts its routes declare (Handler).
	Services
	Clock clock.Clock
	Log   *slog.Logger

	keys *token.Keys
	// mfaKeys keep second factors' secrets (from the data key).
	mfaKeys *mfa.Keys
	hasher  *password.Hasher
	// parts are what this program's parts built.
	parts built
	// sealer seals and opens messages; composer makes them (one per
	// program, so messages written one after another keep their order).
	sealer   *outbox.Sealer
	composer *outbox.Composer
	// written is told (without waiting) each time a request writes a
	// message, so that the local sender (Deliver) delivers it at once.
	written        chan struct{}
	codeRouteFloor time.Duration
	// closeStore closes the store Open opened; nil for a test's store.
	closeStore func() error
}

// Options changes what Open builds. Parts is what each program sets; the
// others are hooks only tests set.
type Options struct {
	// Parts are the optional pieces this program links.
	Parts Parts
	// Clock replaces the system clock: the behaviour tests move time.
	Clock clock.Clock
	// Store replaces the store the config names: the tests bring a
	// DynamoDB Local table, or wrap a store to fail or count its calls.
	Store backend.Store
	// Hash sets the argon2id parameters (default password.DefaultParams):
	// the benchmarks compare cheaper ones.
	Hash *password.Params
	// Notifier replaces the notifier the config names: infra/samcheck
	// delivers through the SES and SNS adapters to moto, recording the
	// calls.
	Notifier notify.Notifier
	// DeadLetters replaces the dead-letter queue the config names (tests).
	DeadLetters sender.DeadLetters
	// CodeRouteFloor replaces how long the code routes take at least
	// (httpapi.CodeRouteFloor), so tests need not wait it out.
	CodeRouteFloor time.Duration
}

// Open builds the system for cfg. The caller must Close it.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger, opt Options) (*App, error) {
	a := &App{Log: log, Clock: opt.Clock, codeRouteFloor: opt.CodeRouteFloor, written: make(chan struct{}, 1)}
	if a.Clock == nil {
		a.Clock = clock.System{}
	}
	loadAWS := awsLoader(ctx, opt.Parts.AWSConfig, log)
	var err error
	if a.Config, a.keys, err = openKeys(ctx, cfg, loadAWS, a.Clock); err != nil {
		return nil, err
	}
	if a.mfaKeys, err = mfa.NewKeys(a.Config.DataKey); err != nil {
		return nil, err
	}
	a.Store = opt.Store
	if a.Store == nil {
		if a.Store, a.closeStore, err = openStore(a.Config, loadAWS); err != nil {
			return nil, err
		}
	}
	if a.sealer, err = outbox.NewSealer(a.Config.DataKey); err != nil {
		return nil, errors.Join(err, a.Close())
	}
	a.composer = outbox.NewComposer(a.sealer, a.Clock)
	a.parts = built{checks: account.Checks{Phone: opt.Parts.Phone, Password: opt.Parts.Password}, notifier: opt.Notifier,
		totp: opt.Parts.TOTP, passkeys: opt.Parts.Passkeys, dead: opt.DeadLetters}
	if a.parts.notifier == nil {
		if a.parts.notifier, err = openNotifier(a.Config, opt.Parts.Messenger, loadAWS); err != nil {
			return nil, errors.Join(err, a.Close())
		}
	}
	if a.parts.dead == nil {
		if a.parts.dead, err = openDeadLetters(a.Config, opt.Parts.DeadLetters, loadAWS); err != nil {
			return nil, errors.Join(err, a.Close())
		}
	}
	if opt.Parts.Pages != nil {
		if a.parts.pages, err = opt.Parts.Pages(); err != nil {
			return nil, errors.Join(err, a.Close())
		}
	}
	params := password.DefaultParams
	if opt.Hash != nil {
		params = *opt.Hash
	}
	a.hasher = password.NewHasher(params)
	if a.Services, err = a.services(a.parts); err != nil {
		return nil, errors.Join(err, a.Close())
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
		return nil, fmt.Errorf("app: [%s]: built without %v, which its routes declare (add it to the function's app.Parts)", function, fieldsOf(httpapi.NeedsPages))
	}
	pages, err := parts.Pages()
	if err != nil {
		return nil, err
	}
	return httpapi.New(httpapi.Deps{
		Pages:          pages,
		Clock:          clock.System{},
		Log:            log,
		Production:     cfg.Env == config.Production,
		RequestTimeout: cfg.RequestTimeout,
	}, function)
}

// Handler returns the HTTP handler for the named functions' routes (every
// route when none is named: the local API). It refuses when those routes
// declare a part this program was built without. Its services have only
// the parts the routes declare, so a route that uses another fails
// wherever it is served, in the tests as in a function built without it.
func (a *App) Handler(functions ...string) (*httpapi.API, error) {
	needs := httpapi.NeedsOf(functions...)
	if missing := needs &^ a.parts.provides(); missing != 0 {
		return nil, fmt.Errorf("app: %v: built without %v, which its routes declare (add it to the function's app.Parts; EKOLEK_NOTIFIER=%s)",
			functions, fieldsOf(missing), a.Config.Notifier)
	}
	parts := a.parts.only(needs)
	s, err := a.services(parts)
	if err != nil {
		return nil, err
	}
	return httpapi.New(httpapi.Deps{
		Accounts:       s.Accounts,
		Auth:           s.Auth,
		Checks:         parts.checks,
		Sessions:       s.Sessions,
		Contact:        s.Contact,
		Reset:          s.Reset,
		Guard:          s.Guard,
		Audit:          s.Audit,
		MFA:            s.MFA,
		Passkeys:       s.Passkeys,
		Events:         a.Store,
		Outbox:         outbox.NewReader(a.Store, a.sealer),
		Pages:          parts.pages,
		CodeRouteFloor: a.codeRouteFloor,
		RequestTimeout: a.Config.RequestTimeout,
		Clock:          a.Clock,
		Log:            a.Log,
		Production:     a.Config.Env == config.Production,
	}, functions...)
}

// Close releases the store Open opened.
func (a *App) Close() error {
	if a.closeStore == nil {
		return nil
	}
	return a.closeStore()
}

// awsLoader returns what loads the AWS configuration with load (nil: from
// the environment alone, as in Lambda) on the first call and gives the
// same to every later one. The signing key's secret, DynamoDB and the
// Messenger each ask for it; a program that needs none of them (embedded
// store, local outbox, key in the environment) never loads it. The SDK's
// own log lines go to log as JSON.
func awsLoader(ctx context.Context, load func(context.Context) (aws.Config, error), log *slog.Logger) func() (aws.Config, error) {
	if load == nil {
		load = func(context.Context) (aws.Config, error) { return awsenv.Load() }
	}
	return sync.OnceValues(func() (aws.Config, error) {
		c, err := load(ctx)
		if err != nil {
			return aws.Config{}, fmt.Errorf("aws configuration: %w", err)
		}
		c.Logger = logging.SDK(log)
		// Every client, however its configuration was loaded, gives up on
		// a stalled attempt in time for the request's deadline.
		return awsenv.Bounded(c), nil
	})
}
