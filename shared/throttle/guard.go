package throttle

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"net/netip"
	"strings"
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
	// for Window from the failure that reached Max.
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
	// PasskeyIP passkey login ceremonies begun per IP (each stores a
	// challenge, for anyone who asks).
	PasskeyIP Limit
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
	PasskeyIP:     Limit{60, 15 * time.Minute},
	SMSPerNumber:  Limit{5, 24 * time.Hour},
}

// Kind names a limit.
type Kind string

// The limits.
const (
	LoginIdentifier Kind = "login_identifier"
	LoginIP         Kind = "login_ip"
	CodeVerifyIP    Kind = "code_verify_ip"
	ResetIP         Kind = "reset_ip"
	RegisterIP      Kind = "register_ip"
	PasskeyIP       Kind = "passkey_ip"
	SMSNumber       Kind = "sms_number"
)

// Refused says an attempt was refused by a limit.
type Refused struct {
	Limit      Kind
	RetryAfter time.Duration
}

func (e *Refused) Error() string {
	return fmt.Sprintf("throttle: %s refused for %v", e.Limit, e.RetryAfter)
}

// Login reports whether the refusal is of a login (identifier lock or IP).
func (e *Refused) Login() bool { return e.Limit == LoginIdentifier || e.Limit == LoginIP }

// Guard applies the limits on the store's counters, so they hold across
// every Lambda instance.
type Guard struct {
	store  Store
	limits Limits
	clock  clock.Clock
}

// NewGuard returns a Guard.
func NewGuard(s Store, l Limits, c clock.Clock) *Guard {
	return &Guard{store: counters{s}, limits: l, clock: c}
}

// Limits returns the limits in force.
func (g *Guard) Limits() Limits { return g.limits }

// subject hides what is counted (an email, a phone) inside store keys.
func subject(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}

// client is what an IP limit counts: the address, or for IPv6 its /64,
// which one client holds whole.
func client(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return subject(ip)
	}
	if a.Is6() && !a.Is4In6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.Unmap().String()
}

type loginKeys struct{ attempts, lock, ipFailures string }

func keysFor(realm, identifier, ip string) loginKeys {
	id := realm + ":" + subject(identifier)
	return loginKeys{
		attempts:   "login-attempts:" + id,
		lock:       "login-lock:" + id,
		ipFailures: "login-ip-failures:" + client(ip),
	}
}

// BeginLogin admits a login attempt before any password hash is computed,
// or refuses it: when the identifier is locked, or its attempt counter
// (which a right password clears) already holds the limit, or the IP has
// had the limit of failed logins. Admission is counted atomically, so
// concurrent attempts cannot all slip in before the first failure is
// recorded: every admitted attempt holds a place in the IP's failure count
// until a right password gives it back (LoginSucceeded,
// LoginRefusedByStatus). The identifier lock is per realm; the IP limit
// covers both realms.
func (g *Guard) BeginLogin(ctx context.Context, realm, identifier, ip string) error {
	return g.begin(ctx, realm, ip, identifier)
}

// BeginPasswordChange admits a password change the way BeginLogin admits a
// login, for every login identifier of the account: a wrong current password
// counts toward each identifier's lock, and once toward the IP's.
func (g *Guard) BeginPasswordChange(ctx context.Context, realm, ip string, identifiers []string) error {
	return g.begin(ctx, realm, ip, identifiers...)
}

func (g *Guard) begin(ctx context.Context, realm, ip string, identifiers ...string) error {
	now := g.clock.Now()
	for _, id := range identifiers {
		c, err := g.store.Peek(ctx, keysFor(realm, id, ip).lock, now)
		if err != nil {
			return err
		}
		if c.Count > 0 {
			return &Refused{Limit: LoginIdentifier, RetryAfter: c.RetryAfter(now)}
		}
	}
	ipKey := keysFor(realm, "", ip).ipFailures
	c, err := g.store.Hit(ctx, ipKey, g.limits.LoginIP.Max, g.limits.LoginIP.Window, now)
	if err != nil {
		return err
	}
	if !c.Allowed {
		return &Refused{Limit: LoginIP, RetryAfter: c.RetryAfter(now)}
	}
	taken := []string{ipKey}
	for _, id := range identifiers {
		k := keysFor(realm, id, ip).attempts
		c, err := g.store.Hit(ctx, k, g.limits.LoginFailures.Max, g.limits.LoginFailures.Window, now)
		if err != nil {
			g.giveBack(ctx, taken...)
			return err
		}
		if !c.Allowed {
			// Refused before any password check: not a failure of the IP's.
			if err := g.store.Release(ctx, ipKey, now); err != nil {
				return err
			}
			return &Refused{Limit: LoginIdentifier, RetryAfter: c.RetryAfter(now)}
		}
		taken = append(taken, k)
	}
	return nil
}

// Unjudged gives back the places BeginLogin (or BeginPasswordChange) took
// for an attempt that did not end in a wrong password: the store failed
// before the password was checked, or the password change it admitted
// failed after it. Such an attempt is no failure, so the retry that
// follows it must not find the identifier or the IP charged for it.
func (g *Guard) Unjudged(ctx context.Context, realm, ip string, identifiers ...string) {
	keys := []string{keysFor(realm, "", ip).ipFailures}
	for _, id := range identifiers {
		keys = append(keys, keysFor(realm, id, ip).attempts)
	}
	g.giveBack(ctx, keys...)
}

// GiveBackTime is how long giving back an admission or a code's charges
// (RefundAll) may take past the request's own deadline: the failure that
// ended the attempt is often that deadline passing (a stalled store), and
// a give-back in the request's context would then never be sent. It is
// well inside the time a request keeps to answer (httpapi.AnswerMargin).
// What it cannot give back (the store is still down) stays counted until
// its window ends; the failure that ended the attempt is what the request
// reports.
const GiveBackTime = 250 * time.Millisecond

// giveBack takes one hit back from each key, best effort, within
// GiveBackTime even when ctx has ended. A place it cannot give back stays
// counted until its window ends.
func (g *Guard) giveBack(ctx context.Context, keys ...string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), GiveBackTime)
	defer cancel()
	now := g.clock.Now()
	for _, k := range keys {
		_ = g.store.Release(ctx, k, now)
	}
}

// LoginFailed records that an admitted attempt failed: it keeps its place
// in the IP's failure count. When the identifier's attempts have reached
// the limit it locks the identifier for the lock's full length from now,
// and reports that it did.
func (g *Guard) LoginFailed(ctx context.Context, realm, identifier, ip string) (locked bool, err error) {
	now := g.clock.Now()
	k := keysFor(realm, identifier, ip)
	c, err := g.store.Peek(ctx, k.attempts, now)
	if err != nil || c.Count < g.limits.LoginFailures.Max {
		return false, err
	}
	l, err := g.store.Hit(ctx, k.lock, 1, g.limits.LoginFailures.Window, now)
	if err != nil {
		return false, err
	}
	// The full attempt counter is left to run out on its own: its window
	// began at the first attempt, so it ends before the lock does, and until
	// then it refuses by itself (even if writing the lock had failed).
	return l.Allowed, nil
}

// LoginSucceeded resets the identifier's attempts and gives the IP back the
// place its admission took: only failures count toward the IP limit, and a
// success earns no credit beyond its own attempt.
func (g *Guard) LoginSucceeded(ctx context.Context, realm, identifier, ip string) error {
	return g.rightPassword(ctx, realm, ip, identifier)
}

// LoginRefusedByStatus is a right password for an account whose status
// refuses the login (pending, say): not a failure, so it counts toward
// neither limit, and not a success either (LoginSucceeded gives no more).
func (g *Guard) LoginRefusedByStatus(ctx context.Context, realm, identifier, ip string) error {
	return g.rightPassword(ctx, realm, ip, identifier)
}

// PasswordChangeSucceeded is LoginSucceeded for every identifier of the
// account, giving the IP back its one place.
func (g *Guard) PasswordChangeSucceeded(ctx context.Context, realm, ip string, identifiers []string) error {
	return g.rightPassword(ctx, realm, ip, identifiers...)
}

// rightPassword gives the IP its place back first: if the store fails
// after that, what stays counted is the identifier's attempt, which the
// next right password clears, not a failure of the IP's, which nothing
// clears before its window ends.
func (g *Guard) rightPassword(ctx context.Context, realm, ip string, identifiers ...string) error {
	if err := g.store.Release(ctx, keysFor(realm, "", ip).ipFailures, g.clock.Now()); err != nil {
		return err
	}
	for _, id := range identifiers {
		if err := g.store.Clear(ctx, keysFor(realm, id, ip).attempts); err != nil {
			return err
		}
	}
	return nil
}

// ResetCompleted clears the login lock and attempts of every identifier of
// an account whose password was just reset: anyone can lock an account
// with five wrong passwords, and the owner who proved a contact gets back
// in at once.
func (g *Guard) ResetCompleted(ctx context.Context, realm string, identifiers []string) error {
	for _, id := range identifiers {
		k := keysFor(realm, id, "")
		for _, key := range []string{k.lock, k.attempts} {
			if err := g.store.Clear(ctx, key); err != nil {
				return err
			}
		}
	}
	return nil
}

// Occurrence counts one occurrence of what (a security event type, say)
// from ip's client (its /64 for IPv6) in the current UTC minute, on the
// store so the count holds across Lambda instances, and returns how many
// there have been in that minute so far, this one included.
func (g *Guard) Occurrence(ctx context.Context, what, ip string) (int, error) {
	now := g.clock.Now()
	minute := now.Truncate(time.Minute)
	k := "occurrence:" + what + ":" + client(ip) + ":" + minute.UTC().Format("200601021504")
	c, err := g.store.Hit(ctx, k, math.MaxInt32, minute.Add(time.Minute).Sub(now), now)
	if err != nil {
		return 0, err
	}
	return c.Count, nil
}

// Allow counts one attempt of kind by who (an IP, a phone number),
// refusing it when the limit is reached.
func (g *Guard) Allow(ctx context.Context, kind Kind, who string) error {
	_, err := g.Spend(ctx, kind, who)
	return err
}

// Spend is Allow for an attempt that may be given back: it also returns
// the charge the allowed attempt took (Store.Refund).
func (g *Guard) Spend(ctx context.Context, kind Kind, who string) (Charge, error) {
	var l Limit
	switch kind {
	case CodeVerifyIP:
		l, who = g.limits.CodeVerifyIP, client(who)
	case ResetIP:
		l, who = g.limits.ResetIP, client(who)
	case RegisterIP:
		l, who = g.limits.RegisterIP, client(who)
	case PasskeyIP:
		l, who = g.limits.PasskeyIP, client(who)
	case SMSNumber:
		l = g.limits.SMSPerNumber
	default:
		return Charge{}, fmt.Errorf("throttle: unknown limit %q", kind)
	}
	now := g.clock.Now()
	k := string(kind) + ":" + subject(strings.ToLower(who))
	c, err := g.store.Hit(ctx, k, l.Max, l.Window, now)
	if err != nil {
		return Charge{}, err
	}
	if !c.Allowed {
		return Charge{}, &Refused{Limit: kind, RetryAfter: c.RetryAfter(now)}
	}
	return ChargeOf(k, c), nil
}
