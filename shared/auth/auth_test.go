package auth_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/audit"
	"github.com/ekolek/identity/shared/auth"
	"github.com/ekolek/identity/shared/clock"
	"github.com/ekolek/identity/shared/code"
	"github.com/ekolek/identity/shared/mfa"
	"github.com/ekolek/identity/shared/notify"
	"github.com/ekolek/identity/shared/outbox"
	"github.com/ekolek/identity/shared/password"
	"github.com/ekolek/identity/shared/phone"
	"github.com/ekolek/identity/shared/reset"
	"github.com/ekolek/identity/shared/session"
	"github.com/ekolek/identity/shared/store/embedded"
	"github.com/ekolek/identity/shared/throttle"
	"github.com/ekolek/identity/shared/token"
	"github.com/ekolek/identity/shared/totp"
)

// cheap are argon2id parameters far below production's: these tests are
// about the use cases, not the hash (shared/password tests that).
var cheap = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

const juanPassword = "kalabasa sitaw talong"

// world is the auth service over a real embedded store, with what its
// tests look at.
type world struct {
	t        *testing.T
	ctx      context.Context
	store    *embedded.Store
	clock    *clock.Manual
	hasher   *password.Hasher
	sessions *session.Manager
	mfa      *mfa.Service
	sealer   *outbox.Sealer
	auth     *auth.Service
}

// who is the requester of every attempt in these tests.
var who = auth.Requester{RequestID: "req-1", IP: "203.0.113.7", UserAgent: "test-agent/1.0"}

func newWorld(t *testing.T, limits throttle.Limits, hash password.Params) *world {
	t.Helper()
	st, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	clk := clock.NewManual(time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	keys, err := token.NewKeys([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	hasher := password.NewHasher(hash)
	checks := account.Checks{
		Phone: phone.Normalize,
		// Long enough is strong enough here; the real policy has tests of its own.
		Password: func(pw string, _ []string) error {
			if len(pw) < password.MinLength {
				return &password.WeakError{Reasons: []string{"too_short"}}
			}
			return nil
		},
	}
	guard := throttle.NewGuard(st, limits, clk)
	sessions := session.NewManager(st, keys, clk, map[account.Realm]session.Lifetimes{
		account.Resident: {Idle: 2 * time.Hour, Absolute: 24 * time.Hour},
		account.Admin:    {Idle: 30 * time.Minute, Absolute: 8 * time.Hour},
	})
	accounts := account.NewService(st, hasher, checks, account.Barangays{"San Roque"}, clk)
	secret := []byte(strings.Repeat("c", 32))
	sealer, err := outbox.NewSealer(secret)
	if err != nil {
		t.Fatal(err)
	}
	messages := code.NewOutbox(outbox.NewComposer(sealer, clk), st, st, guard, 100, clk)
	resets := reset.NewService(st, code.NewEngine(st, st, secret, clk), messages, hasher, checks, keys, clk, log)
	trail := audit.NewRecorder(st, log, clk, 24*time.Hour)
	mfaKeys, err := mfa.NewKeys([]byte(strings.Repeat("d", 32)))
	if err != nil {
		t.Fatal(err)
	}
	factors := mfa.NewService(mfa.Deps{Store: st, Accounts: st, Keys: mfaKeys, Tokens: keys, Guard: guard, Clock: clk, Policy: mfa.Policy{AdminRequired: true}, TOTP: totp.App{}})
	return &world{
		t: t, ctx: context.Background(), store: st, clock: clk, hasher: hasher, sessions: sessions, sealer: sealer, mfa: factors,
		auth: auth.NewService(auth.Deps{Accounts: accounts, Checks: checks, Sessions: sessions, Guard: guard, Trail: trail,
			Notices: resets, MFA: factors, Log: log}),
	}
}

// resident stores an approved (or other status) resident with a verified
// email and phone, as registration and approval would leave it.
func (w *world) resident(status account.Status) account.Account {
	w.t.Helper()
	h, err := w.hasher.Hash(juanPassword)
	if err != nil {
		w.t.Fatal(err)
	}
	a := account.Account{
		Realm: account.Resident, ID: account.NewID(), Status: status, Language: "en",
		FirstName: "Juan", LastName: "Dela Cruz", Barangay: "San Roque",
		Email: "juan@example.com", EmailVerified: true, Phone: "+639171234567", PhoneVerified: true,
		PasswordHash: h, CreatedAt: w.clock.Now(), UpdatedAt: w.clock.Now(),
	}
	if err := w.store.CreateAccount(w.ctx, a); err != nil {
		w.t.Fatal(err)
	}
	a.Version = 1
	return a
}

// login logs in as a resident with no second factor: a pending outcome
// fails the test.
func (w *world) login(identifier, pw, presented string) (auth.SignedIn, error) {
	w.t.Helper()
	out, err := w.auth.Login(w.ctx, who, auth.Login{Realm: account.Resident, Identifier: identifier, Password: pw, Presented: presented})
	if out.Pending() {
		w.t.Fatalf("login as %s waits for %+v", identifier, out.Due)
	}
	return out.SignedIn, err
}

func (w *world) mustLogin(identifier, pw string) auth.SignedIn {
	w.t.Helper()
	in, err := w.login(identifier, pw, "")
	if err != nil {
		w.t.Fatalf("login as %s: %v", identifier, err)
	}
	return in
}

// events are the stored security events, in no particular order (the
// clock stands still).
func (w *world) events() []audit.Event {
	w.t.Helper()
	evs, _, err := w.store.QueryEvents(w.ctx, audit.Query{Limit: 1000})
	if err != nil {
		w.t.Fatal(err)
	}
	return evs
}

// eventsOf are the stored events of type t.
func (w *world) eventsOf(t audit.Type) []audit.Event {
	var out []audit.Event
	for _, e := range w.events() {
		if e.Type == t {
			out = append(out, e)
		}
	}
	return out
}

func refusal(t *testing.T, err error) *throttle.Refused {
	t.Helper()
	var r *throttle.Refused
	if !errors.As(err, &r) {
		t.Fatalf("got %v, want a refusal by a limit", err)
	}
	return r
}

func TestLoginStartsASessionOfTheAccountAsAuthenticated(t *testing.T) {
	w := newWorld(t, throttle.DefaultLimits, cheap)
	juan := w.resident(account.StatusApproved)

	in := w.mustLogin("Juan@Example.com", juanPassword)
	if in.Account.ID != juan.ID || in.Session.AccountID != juan.ID || in.Session.Realm != account.Resident {
		t.Fatalf("signed in %+v / %+v, want juan's account and session", in.Account.ID, in.Session)
	}
	if in.Session.IP != who.IP || in.Session.UserAgent != who.UserAgent {
		t.Errorf("session records %q %q, want the requester's IP and user agent", in.Session.IP, in.Session.UserAgent)
	}
	if in.Session.Epoch != in.Account.SessionEpoch {
		t.Errorf("session epoch %d, account's %d: the session must carry the epoch it authenticated with", in.Session.Epoch, in.Account.SessionEpoch)
	}
	s, a, err := w.sessions.Check(w.ctx, account.Resident, in.Token)
	if err != nil || s.Key != in.Session.Key || a.ID != juan.ID {
		t.Fatalf("the token does not name the new session: %v", err)
	}

	evs := w.events()
	if len(evs) != 1 || evs[0].Type != audit.LoginSucceeded {
		t.Fatalf("events %+v, want one login_succeeded", evs)
	}
	e := evs[0]
	if e.AccountID != juan.ID || e.Realm != account.Resident || e.RequestID != who.RequestID || e.IP != who.IP || e.UserAgent != who.UserAgent {
		t.Errorf("login_succeeded %+v does not carry the account and the requester", e)
	}
	if e.Identifier == "" || strings.Contains(e.Identifier, "juan@") {
		t.Errorf("login_succeeded identifier %q, want what was typed, masked", e.Identifier)
	}
}

func TestLoginEndsThePresentedSession(t *testing.T) {
	w := newWorld(t, throttle.DefaultLimits, cheap)
	w.resident(account.StatusApproved)
	first := w.mustLogin("juan@example.com", juanPassword)

	second, err := w.login("juan@example.com", juanPassword, first.Token)
	if err != nil {
		t.Fatal(err)
	}
	if second.Session.Key == first.Session.Key {
		t.Fatal("a login reused the presented session id")
	}
	if _, _, err := w.sessions.Check(w.ctx, account.Resident, first.Token); !errors.Is(err, session.ErrUnauthenticated) {
		t.Errorf("the presented session still checks: %v", err)
	}
	if _, _, err := w.sessions.Check(w.ctx, account.Resident, second.Token); err != nil {
		t.Errorf("the new session does not check: %v", err)
	}
}

func TestWrongPasswordsLockTheIdentifier(t *testing.T) {
	w := newWorld(t, throttle.DefaultLimits, cheap)
	juan := w.resident(account.StatusApproved)

	for i := 1; i <= 5; i++ {
		// Typed five ways, one identifier: the lock counts what it means.
		typed := []string{"juan@example.com", "JUAN@example.com", " juan@Example.COM", "juan@example.com ", "Juan@Example.com"}[i-1]
		if _, err := w.login(typed, "wrong password!!", ""); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Fatalf("wrong password %d: %v, want invalid credentials", i, err)
		}
	}
	failed := w.eventsOf(audit.LoginFailed)
	if len(failed) != 5 {
		t.Fatalf("%d login_failed events, want 5", len(failed))
	}
	for _, e := range failed {
		if e.AccountID != juan.ID || e.Details["reason"] != "invalid_credentials" {
			t.Errorf("login_failed %+v, want juan's account and reason invalid_credentials", e)
		}
	}
	locked := w.eventsOf(audit.LoginLocked)
	if len(locked) != 1 || locked[0].AccountID != juan.ID || locked[0].Details["lock"] != "15m0s" {
		t.Fatalf("login_locked events %+v, want one for juan with the lock's length", locked)
	}

	before := len(w.events())
	_, err := w.login("juan@example.com", juanPassword, "")
	if r := refusal(t, err); r.Limit != throttle.LoginIdentifier || r.RetryAfter != 15*time.Minute {
		t.Errorf("right password during the lock: %+v, want the identifier's 15-minute lock", r)
	}
	if n := len(w.events()); n != before {
		t.Errorf("a refusal by a limit recorded %d events itself; recording it is the caller's", n-before)
	}

	w.clock.Advance(15 * time.Minute)
	w.mustLogin("juan@example.com", juanPassword)
}

func TestUnknownIdentifiersFailAndLockTheSameWay(t *testing.T) {
	w := newWorld(t, throttle.DefaultLimits, cheap)
	for i := 1; i <= 5; i++ {
		if _, err := w.login("nobody@example.com", juanPassword, ""); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Fatalf("attempt %d: %v, want invalid credentials", i, err)
		}
	}
	_, err := w.login("nobody@example.com", juanPassword, "")
	refusal(t, err)
	for _, e := range w.events() {
		if e.AccountID != "" {
			t.Errorf("%s names account %q for an identifier nobody holds", e.Type, e.AccountID)
		}
	}
	if len(w.eventsOf(audit.LoginLocked)) != 1 {
		t.Error("an unknown identifier's lock left no login_locked event")
	}
}

func TestStatusIsToldAfterARightPasswordAndCountsTowardNoLimit(t *testing.T) {
	// An IP limit of 3 failures: a fourth status refusal from the same IP
	// would be refused if right passwords kept their places.
	limits := throttle.DefaultLimits
	limits.LoginIP = throttle.Limit{Max: 3, Window: 15 * time.Minute}
	w := newWorld(t, limits, cheap)
	pending := w.resident(account.StatusPending)

	var status *account.StatusError
	if _, err := w.login("juan@example.com", "wrong password!!", ""); !errors.Is(err, account.ErrInvalidCredentials) {
		t.Fatalf("wrong password for a pending account: %v, want invalid credentials (the status only after a right one)", err)
	}
	for i := 1; i <= 6; i++ {
		_, err := w.login("juan@example.com", juanPassword, "")
		if !errors.As(err, &status) || status.Status != account.StatusPending {
			t.Fatalf("right password %d for a pending account: %v, want its status", i, err)
		}
	}
	var reasons []string
	for _, e := range w.eventsOf(audit.LoginFailed) {
		if e.AccountID != pending.ID {
			t.Errorf("login_failed names %q, want the pending account", e.AccountID)
		}
		reasons = append(reasons, e.Details["reason"])
	}
	slices.Sort(reasons)
	if want := []string{"account_pending", "account_pending", "account_pending", "account_pending", "account_pending", "account_pending", "invalid_credentials"}; !slices.Equal(reasons, want) {
		t.Errorf("login_failed reasons %v, want %v", reasons, want)
	}
	if n := len(w.eventsOf(audit.LoginSucceeded)); n != 0 {
		t.Errorf("%d login_succeeded for a pending account", n)
	}
}

func TestRightPasswordsGiveTheirIPPlaceBack(t *testing.T) {
	limits := throttle.DefaultLimits
	limits.LoginIP = throttle.Limit{Max: 3, Window: 15 * time.Minute}
	w := newWorld(t, limits, cheap)
	w.resident(account.StatusApproved)
	for range 6 {
		w.mustLogin("juan@example.com", juanPassword)
	}
	for i := 1; i <= 3; i++ {
		if _, err := w.login("someone@example.com", "wrong password!!", ""); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	_, err := w.login("juan@example.com", juanPassword, "")
	if r := refusal(t, err); r.Limit != throttle.LoginIP {
		t.Errorf("after the IP's limit of failures: %+v, want the IP limit", r)
	}
}

func TestLoginUpgradesAnOldHash(t *testing.T) {
	old := cheap
	old.Time = 2
	w := newWorld(t, throttle.DefaultLimits, cheap)
	juan := w.resident(account.StatusApproved)
	oldHash, err := password.NewHasher(old).Hash(juanPassword)
	if err != nil {
		t.Fatal(err)
	}
	juan.PasswordHash = oldHash
	if err := w.store.UpdateAccount(w.ctx, juan); err != nil {
		t.Fatal(err)
	}

	in := w.mustLogin("juan@example.com", juanPassword)
	stored, err := w.store.GetAccount(w.ctx, account.Resident, juan.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.PasswordHash == oldHash {
		t.Fatal("the old hash was not upgraded")
	}
	if ok, rehash, err := w.hasher.Verify(juanPassword, stored.PasswordHash); !ok || rehash || err != nil {
		t.Errorf("upgraded hash: ok=%v rehash=%v err=%v, want a current hash of the same password", ok, rehash, err)
	}
	if _, _, err := w.sessions.Check(w.ctx, account.Resident, in.Token); err != nil {
		t.Errorf("the session started before the upgrade no longer checks: %v", err)
	}
}

// change asks for a password change from the session of in.
func (w *world) change(in auth.SignedIn, current, next string) error {
	return w.auth.ChangePassword(w.ctx, who, auth.PasswordChange{Account: in.Account, Keep: in.Session.Key, Current: current, New: next})
}

func TestPasswordChangeKeepsThisSessionAndEndsTheOthers(t *testing.T) {
	w := newWorld(t, throttle.DefaultLimits, cheap)
	juan := w.resident(account.StatusApproved)
	other := w.mustLogin("juan@example.com", juanPassword)
	this := w.mustLogin("+639171234567", juanPassword)

	const next = "bagong password ko 2026"
	if err := w.change(this, juanPassword, next); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.sessions.Check(w.ctx, account.Resident, this.Token); err != nil {
		t.Errorf("the session that changed the password was ended: %v", err)
	}
	if _, _, err := w.sessions.Check(w.ctx, account.Resident, other.Token); !errors.Is(err, session.ErrUnauthenticated) {
		t.Errorf("another session survived the change: %v", err)
	}
	if _, err := w.login("juan@example.com", juanPassword, ""); !errors.Is(err, account.ErrInvalidCredentials) {
		t.Errorf("the old password still logs in: %v", err)
	}
	w.mustLogin("juan@example.com", next)

	changed := w.eventsOf(audit.PasswordChanged)
	if len(changed) != 1 || changed[0].AccountID != juan.ID || changed[0].Details["sessions_ended"] != "1" || changed[0].RequestID != who.RequestID {
		t.Errorf("password_changed events %+v, want one for juan, one session ended, with the request id", changed)
	}
	revoked := w.eventsOf(audit.SessionRevoked)
	if len(revoked) != 1 || revoked[0].Details["reason"] != "password_changed" || revoked[0].Details["count"] != "1" {
		t.Errorf("session_revoked events %+v, want one with reason password_changed, count 1", revoked)
	}
	msgs, err := outbox.NewReader(w.store, w.sealer).List(w.ctx, w.clock.Now().Add(-time.Hour), w.clock.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var to []string
	for _, m := range msgs {
		if m.Kind != notify.PasswordChanged || m.State != outbox.Pending {
			t.Errorf("queued %s message in state %s, want password-changed notices pending", m.Kind, m.State)
		}
		to = append(to, m.Content.To)
	}
	slices.Sort(to)
	if want := []string{"+639171234567", "juan@example.com"}; !slices.Equal(to, want) {
		t.Errorf("notices went to %v, want each verified contact %v", to, want)
	}
}

func TestWrongCurrentPasswordsLockEveryIdentifierOfTheAccount(t *testing.T) {
	w := newWorld(t, throttle.DefaultLimits, cheap)
	juan := w.resident(account.StatusApproved)
	in := w.mustLogin("juan@example.com", juanPassword)

	for i := 1; i <= 5; i++ {
		if err := w.change(in, "not my password", "bagong password ko 2026"); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Fatalf("wrong current password %d: %v, want invalid credentials", i, err)
		}
	}
	failed := w.eventsOf(audit.LoginFailed)
	if len(failed) != 5 || failed[0].Details["reason"] != "wrong_current_password" || failed[0].AccountID != juan.ID {
		t.Errorf("login_failed events %+v, want 5 for juan with reason wrong_current_password", failed)
	}
	locked := w.eventsOf(audit.LoginLocked)
	if len(locked) != 2 {
		t.Fatalf("%d login_locked events, want one per identifier (email, phone)", len(locked))
	}
	for _, e := range locked {
		if e.AccountID != juan.ID || e.Details["via"] != "password_change" {
			t.Errorf("login_locked %+v, want juan's, via password_change", e)
		}
	}
	// The same keys as the login's: both identifiers are locked at the login box.
	for _, typed := range []string{"Juan@Example.com", "0917 123 4567"} {
		if _, err := w.login(typed, juanPassword, ""); refusal(t, err).Limit != throttle.LoginIdentifier {
			t.Errorf("login as %s after the lock: %v, want the identifier lock", typed, err)
		}
	}
	// The lock comes before the current password is checked: a right one is refused too.
	if err := w.change(in, juanPassword, "bagong password ko 2026"); refusal(t, err).Limit != throttle.LoginIdentifier {
		t.Errorf("password change during the lock: %v, want the identifier lock", err)
	}
}

func TestWeakNewPasswordsCountTowardNoLock(t *testing.T) {
	w := newWorld(t, throttle.DefaultLimits, cheap)
	juan := w.resident(account.StatusApproved)
	in := w.mustLogin("juan@example.com", juanPassword)
	for i := 1; i <= 7; i++ {
		var weak *password.WeakError
		if err := w.change(in, juanPassword, "short"); !errors.As(err, &weak) {
			t.Fatalf("weak new password %d: %v, want a weak-password error", i, err)
		}
	}
	if err := w.change(in, juanPassword, "bagong password ko 2026"); err != nil {
		t.Fatalf("a strong password after weak ones: %v", err)
	}
	if n := len(w.eventsOf(audit.LoginFailed)) + len(w.eventsOf(audit.LoginLocked)); n != 0 {
		t.Errorf("%d failure events for weak new passwords", n)
	}
	stored, err := w.store.GetAccount(w.ctx, account.Resident, juan.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, _ := w.hasher.Verify("bagong password ko 2026", stored.PasswordHash); !ok {
		t.Error("the strong password was not stored")
	}
}

func TestLockKeysAreTheLoginKeys(t *testing.T) {
	juan := account.Account{Email: "juan@example.com", Phone: "+639171234567"}
	checks := account.Checks{Phone: phone.Normalize}
	keys := auth.LockKeys(juan)
	for _, typed := range []string{"JUAN@example.com", "0917 123 4567", "+63 917 123 4567"} {
		if k := checks.CanonicalIdentifier(account.Resident, typed); !slices.Contains(keys, k) {
			t.Errorf("login as %q counts under %q, not one of the account's keys %v", typed, k, keys)
		}
	}
	if k := checks.CanonicalIdentifier(account.Resident, " Not An Identifier "); slices.Contains(keys, k) || k != checks.CanonicalIdentifier(account.Resident, "not an identifier") {
		t.Errorf("unreadable text counts under %q", k)
	}
}
