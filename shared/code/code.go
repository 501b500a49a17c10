// Package code is the one-time code engine behind contact verification and
// password reset, for both realms: 6 digits from crypto/rand, valid 10
// minutes, stored only as an HMAC bound to realm, account, purpose and the
// code's own id, compared in constant time, judged at most 5 times (each try
// is counted before the comparison), and sent at most once a minute per
// purpose and 3 times an hour per account.
package code

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/clock"
	"github.com/ekolek/identity/shared/notify"
	"github.com/ekolek/identity/shared/outbox"
	"github.com/ekolek/identity/shared/store"
	"github.com/ekolek/identity/shared/throttle"
)

// Purpose is what a code is for.
type Purpose string

// Purposes.
const (
	VerifyEmail   Purpose = "verify_email"
	VerifyPhone   Purpose = "verify_phone"
	PasswordReset Purpose = "password_reset"
)

// State is where a code is in its life.
type State string

// States: a pending code waits for its owner; a verified reset code has been
// exchanged for a reset token and waits for the new password.
const (
	Pending  State = "pending"
	Verified State = "verified"
)

// Limits.
const (
	TTL             = 10 * time.Minute
	MaxAttempts     = 5
	ResendCooldown  = 60 * time.Second
	MaxSendsPerHour = 3
	Digits          = 6
)

// Record is a stored code. The code itself is never stored.
type Record struct {
	Realm     account.Realm
	AccountID string
	Purpose   Purpose
	// ID names this code; a new code for the same account and purpose gets a
	// new ID, and a reset token names the ID it redeems.
	ID        string
	MAC       string // hex HMAC-SHA256 of realm, account, purpose, ID and code
	Attempts  int
	State     State
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Store keeps at most one code per account and purpose.
//
// The try limit is held by the store, not by what a caller read: a try is
// reserved (counted) before the code is compared, and a code is redeemed on
// condition that its count is still within MaxAttempts. So of any number of
// concurrent tries at most MaxAttempts are ever compared, and a right code is
// redeemable exactly when its own try was one of them.
type Store interface {
	// PutCode stores r, replacing any code of the same account and
	// purpose, and the message m that carries it, both or neither: a code
	// is never stored without its message, nor a message sent for a code
	// that was not stored. ErrConflict when m's id is taken.
	PutCode(ctx context.Context, r Record, m outbox.Message) error
	// GetCode reads the code of an account and purpose. ErrNotFound.
	GetCode(ctx context.Context, realm account.Realm, accountID string, purpose Purpose) (Record, error)
	// ReserveAttempt counts one try at the stored code, atomically, on
	// condition that it is still r.ID, pending, and has fewer than
	// MaxAttempts tries counted; it returns the new count (this try's
	// number). ErrConflict when the condition fails (another code, used,
	// or out of tries: nothing changes), ErrNotFound when no code is stored.
	ReserveAttempt(ctx context.Context, r Record) (int, error)
	// MarkCodeVerified moves the stored code from pending to verified with a
	// new expiry, on condition that it is still r.ID, pending, and has at
	// most MaxAttempts tries counted (the redeeming try is one of them): of
	// concurrent verifications exactly one succeeds; the others get
	// ErrConflict (ErrNotFound when no code is stored).
	MarkCodeVerified(ctx context.Context, r Record, expires time.Time) error
}

// Errors.
var (
	// ErrInvalid is every failed check: wrong, expired, burned, used or
	// missing code look the same to the caller.
	ErrInvalid = errors.New("code: invalid")
)

// WrongError is a wrong code that was judged: its try was the Attempt-th
// of MaxAttempts. It is ErrInvalid to errors.Is (the caller answers it like
// every other failure); the attempt number is for the security trail.
type WrongError struct {
	Attempt int
}

func (e *WrongError) Error() string {
	return fmt.Sprintf("code: wrong code (try %d of %d)", e.Attempt, MaxAttempts)
}

// Is makes a WrongError an ErrInvalid.
func (e *WrongError) Is(target error) bool { return target == ErrInvalid }

// LimitError refuses a send: too soon after the last one, or too many this hour.
type LimitError struct {
	RetryAfter time.Duration
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("code: send limit, retry after %v", e.RetryAfter)
}

// Engine issues and checks codes.
type Engine struct {
	store    Store
	counters throttle.Store
	key      []byte
	clock    clock.Clock
}

// NewEngine returns an engine; secret is the key the HMACs are derived from.
func NewEngine(s Store, counters throttle.Store, secret []byte, c clock.Clock) *Engine {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("ekolek/code/v1"))
	return &Engine{store: s, counters: counters, key: m.Sum(nil), clock: c}
}

// Message is how a new code goes out: the kind of message, in the
// account's language, over a channel to one recipient. Send fills in
// Data.Code and Data.Minutes.
type Message struct {
	Kind    notify.Kind
	Lang    string
	Channel notify.Channel
	To      string
	Data    notify.Data
}

// Send makes a new code for an account and purpose, valid for ttl, and
// queues it as m in the outbox o (delivered later, off the request path).
// This is the one place that orders a code's limits, and each step
// refuses before anything after it is spent:
//
//  1. the code's own limits: the resend cooldown (per purpose), then the
//     hourly cap (per account);
//  2. the SMS budgets (Outbox.Allow): the recipient's number, then the
//     system's day;
//  3. the new code and its message, one write, replacing any earlier code.
//
// So a request inside the cooldown spends no SMS budget, and a refused SMS
// leaves the code the person already has in place. The limits are charged
// when the message is accepted: a refusal at a later step, or a write that
// certainly did not happen, gives back what the steps before took, and the
// message keeps its charges, for the sender to give back should delivery
// finally fail. A refusal is a *LimitError, a *throttle.Refused or
// ErrSMSCapReached.
func (e *Engine) Send(ctx context.Context, o *Outbox, realm account.Realm, accountID string, purpose Purpose, ttl time.Duration, m Message) error {
	charges, err := e.admit(ctx, realm, accountID, purpose)
	if err != nil {
		return errors.Join(err, throttle.RefundAll(ctx, e.counters, charges))
	}
	sms, err := o.Allow(ctx, m.Channel, m.To)
	charges = append(charges, sms...)
	if err != nil {
		return errors.Join(err, throttle.RefundAll(ctx, e.counters, charges))
	}
	plain, err := newCode()
	if err != nil {
		return errors.Join(err, throttle.RefundAll(ctx, e.counters, charges))
	}
	now := e.clock.Now()
	r := Record{
		Realm: realm, AccountID: accountID, Purpose: purpose, ID: account.NewID(),
		State: Pending, CreatedAt: now, ExpiresAt: now.Add(ttl),
	}
	r.MAC = e.mac(r, plain)
	m.Data.Code, m.Data.Minutes = plain, int(ttl/time.Minute)
	msg, err := o.composer.Compose(m.Kind, m.Lang, m.Channel, m.To, m.Data, realm, accountID)
	if err != nil {
		return errors.Join(err, throttle.RefundAll(ctx, e.counters, charges))
	}
	msg.Charges = charges
	if err := e.store.PutCode(ctx, r, msg); err != nil {
		if NotWritten(err) {
			return errors.Join(err, throttle.RefundAll(ctx, e.counters, charges))
		}
		return err
	}
	return nil
}

// admit counts one send against the resend cooldown and the hourly cap,
// refusing with a *LimitError when either is reached. It returns the
// charges it took, the refused step's excepted.
func (e *Engine) admit(ctx context.Context, realm account.Realm, accountID string, purpose Purpose) ([]throttle.Charge, error) {
	now := e.clock.Now()
	var charges []throttle.Charge
	// The hourly cap is per account, across purposes (the cooldown is per
	// purpose, so the email and SMS codes of a registration can go together).
	for _, l := range []struct {
		key    string
		limit  int
		window time.Duration
	}{
		{"code-cooldown:" + string(realm) + ":" + accountID + ":" + string(purpose), 1, ResendCooldown},
		{"code-sends:" + string(realm) + ":" + accountID, MaxSendsPerHour, time.Hour},
	} {
		c, err := e.counters.Hit(ctx, l.key, l.limit, l.window, now)
		if err != nil {
			return charges, err
		}
		if !c.Allowed {
			return charges, &LimitError{RetryAfter: c.RetryAfter(now)}
		}
		charges = append(charges, throttle.ChargeOf(l.key, c))
	}
	return charges, nil
}

// NotWritten reports whether a failed write certainly changed nothing, so
// that what was charged for it may be given back: a condition refused it
// (store.ErrConflict), or the store says nothing was applied
// (store.ErrUnavailable). A write whose outcome is unknown
// (store.ErrOutcomeUnknown: sent, and no answer) may have been applied, and
// its message may go out: its charges stay.
func NotWritten(err error) bool {
	return errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrUnavailable)
}

// Check compares code with the account's pending code for purpose. The try
// is reserved on the store before the comparison (ReserveAttempt), so a
// code with MaxAttempts tries counted is never compared again, however many
// tries arrive at once. A wrong code is a *WrongError, every other failure
// ErrInvalid. It does not consume the code: the caller redeems the returned
// record (its Attempts include this try) with a conditional write, so two
// concurrent checks cannot both win.
//
// A code whose tries are used up stays stored until it expires or is
// replaced: deleting it would also refuse a concurrent right code whose try
// was among the counted ones, and the reservation already refuses the rest.
func (e *Engine) Check(ctx context.Context, realm account.Realm, accountID string, purpose Purpose, code string) (Record, error) {
	r, err := e.store.GetCode(ctx, realm, accountID, purpose)
	if errors.Is(err, store.ErrNotFound) {
		return Record{}, ErrInvalid
	}
	if err != nil {
		return Record{}, err
	}
	if r.State != Pending || r.Attempts >= MaxAttempts || !e.clock.Now().Before(r.ExpiresAt) {
		return Record{}, ErrInvalid
	}
	n, err := e.store.ReserveAttempt(ctx, r)
	if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
		// Used, replaced or out of tries since it was read.
		return Record{}, ErrInvalid
	}
	if err != nil {
		return Record{}, err
	}
	r.Attempts = n
	want, _ := hex.DecodeString(r.MAC)
	got, _ := hex.DecodeString(e.mac(r, normalize(code)))
	if hmac.Equal(want, got) && len(want) > 0 {
		return r, nil
	}
	return Record{}, &WrongError{Attempt: n}
}

// Valid reports whether a verified record may still be redeemed at now.
func (e *Engine) Valid(r Record, id string) bool {
	return r.State == Verified && r.ID == id && e.clock.Now().Before(r.ExpiresAt)
}

func (e *Engine) mac(r Record, code string) string {
	m := hmac.New(sha256.New, e.key)
	fmt.Fprintf(m, "%s\x00%s\x00%s\x00%s\x00%s", r.Realm, r.AccountID, r.Purpose, r.ID, code)
	return hex.EncodeToString(m.Sum(nil))
}

// normalize accepts what people type: spaces and dashes inside the code.
func normalize(code string) string {
	code = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, code)
	if len(code) != Digits {
		return ""
	}
	return code
}

func newCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", fmt.Errorf("code: random: %w", err)
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}
