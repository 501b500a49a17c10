package throttle

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/ekolek/identity/shared/clock"
)

// Limit is at most Max events per Window.
type Limit struct {
	Max    int
	Window time.Duration
}

// Limits are the abuse limits, all configurable (see config).
type Limits struct {
	// LoginFailures consecutive failed logins for one identifier lock it
	// for Window (counted within Window of the first failure).
	LoginFailures Limit
	// LoginIP failed logins from one IP within Window refuse further
	// logins from it until the window ends.
	LoginIP Limit
	// CodeVerifyIP code verification attempts per IP.
	CodeVerifyIP Limit
	// ResetIP password reset requests (and verification resends) per IP.
	ResetIP Limit
	// RegisterIP registrations per IP.
	RegisterIP Limit
	// SMSPerNumber messages to one phone number.
	SMSPerNumber Limit
}

// DefaultLimits are the limits DESIGN.md and the issues name.
var DefaultLimits = Limits{
	LoginFailures: Limit{5, 15 * time.Minute},
	LoginIP:       Limit{30, 15 * time.Minute},
	CodeVerifyIP:  Limit{30, 15 * time.Minute},
	ResetIP:       Limit{10, time.Hour},
	RegisterIP:    Limit{10, time.Hour},
	SMSPerNumber:  Limit{5, 24 * time.Hour},
}

// Refused says an attempt was refused by a limit. Code is the API error
// code: too_many_attempts for logins, rate_limited for everything else.
type Refused struct {
	Code       string
	Limit      string // which limit: login_identifier, login_ip, code_verify_ip, ...
	RetryAfter time.Duration
}

func (e *Refused) Error() string {
	return fmt.Sprintf("throttle: %s refused for %v", e.Limit, e.RetryAfter)
}

// Guard applies the limits on the store's counters, so they hold across
// every Lambda instance.
type Guard struct {
	store  Store
	limits Limits
	clock  clock.Clock
}

// NewGuard returns a Guard.
func NewGuard(s Store, l Limits, c clock.Clock) *Guard { return &Guard{store: s, limits: l, clock: c} }

// Limits returns the limits in force.
func (g *Guard) Limits() Limits { return g.limits }

// subject hides what is counted (an email, a phone) inside store keys.
func subject(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}

func loginKeys(realm, identifier, ip string) (fails, lock, byIP string) {
	id := subject(identifier)
	return "login-fail:" + realm + ":" + id, "login-lock:" + realm + ":" + id, "login-ip:" + realm + ":" + ip
}

// CheckLogin refuses a login before any password hash is computed when the
// identifier is locked or the IP has failed too often. Realms count apart:
// a lock in one never affects the other.
func (g *Guard) CheckLogin(ctx context.Context, realm, identifier, ip string) error {
	now := g.clock.Now()
	_, lock, byIP := loginKeys(realm, identifier, ip)
	c, err := g.store.Peek(ctx, lock, now)
	if err != nil {
		return err
	}
	if c.Count > 0 {
		return &Refused{Code: "too_many_attempts", Limit: "login_identifier", RetryAfter: c.RetryAfter(now)}
	}
	c, err = g.store.Peek(ctx, byIP, now)
	if err != nil {
		return err
	}
	if c.Count >= g.limits.LoginIP.Max {
		return &Refused{Code: "too_many_attempts", Limit: "login_ip", RetryAfter: c.RetryAfter(now)}
	}
	return nil
}

// LoginFailed counts a failed login for the identifier and the IP. It
// reports whether this failure locked the identifier.
func (g *Guard) LoginFailed(ctx context.Context, realm, identifier, ip string) (locked bool, err error) {
	now := g.clock.Now()
	fails, lock, byIP := loginKeys(realm, identifier, ip)
	if _, err := g.store.Hit(ctx, byIP, g.limits.LoginIP.Max, g.limits.LoginIP.Window, now); err != nil {
		return false, err
	}
	c, err := g.store.Hit(ctx, fails, g.limits.LoginFailures.Max, g.limits.LoginFailures.Window, now)
	if err != nil {
		return false, err
	}
	if !c.Allowed || c.Count < g.limits.LoginFailures.Max {
		return false, nil
	}
	// The failure that reached the limit starts a lock of its own full
	// length; counting starts afresh when it ends.
	l, err := g.store.Hit(ctx, lock, 1, g.limits.LoginFailures.Window, now)
	if err != nil {
		return false, err
	}
	if err := g.store.Clear(ctx, fails); err != nil {
		return false, err
	}
	return l.Allowed, nil
}

// LoginSucceeded resets the identifier's consecutive failures.
func (g *Guard) LoginSucceeded(ctx context.Context, realm, identifier string) error {
	fails, _, _ := loginKeys(realm, identifier, "")
	return g.store.Clear(ctx, fails)
}

// Allow counts one attempt of kind (code_verify_ip, reset_ip, register_ip,
// sms_number) by who, refusing it when the limit is reached.
func (g *Guard) Allow(ctx context.Context, kind string, who string) error {
	var l Limit
	switch kind {
	case "code_verify_ip":
		l = g.limits.CodeVerifyIP
	case "reset_ip":
		l = g.limits.ResetIP
	case "register_ip":
		l = g.limits.RegisterIP
	case "sms_number":
		l = g.limits.SMSPerNumber
	default:
		return fmt.Errorf("throttle: unknown limit %q", kind)
	}
	now := g.clock.Now()
	c, err := g.store.Hit(ctx, kind+":"+subject(who), l.Max, l.Window, now)
	if err != nil {
		return err
	}
	if !c.Allowed {
		return &Refused{Code: "rate_limited", Limit: kind, RetryAfter: c.RetryAfter(now)}
	}
	return nil
}
