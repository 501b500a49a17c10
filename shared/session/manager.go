package session

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/clock"
	"github.com/ekolek/identity/shared/store"
	"github.com/ekolek/identity/shared/token"
)

// sidLen is the length of a raw session id: 32 random bytes, base64url without padding.
const sidLen = 43

// Errors a session check returns besides store errors.
var (
	// ErrUnauthenticated: no token, a token that is not ours or not for this
	// realm, or a session that no longer exists (logged out or revoked).
	ErrUnauthenticated = errors.New("session: unauthenticated")
	// ErrExpired: the session passed its idle or absolute deadline.
	ErrExpired = errors.New("session: expired")
)

// Lifetimes are a realm's session deadlines.
type Lifetimes struct {
	Idle     time.Duration
	Absolute time.Duration
}

// Manager starts, checks and ends sessions.
type Manager struct {
	store Store
	keys  *token.Keys
	clock clock.Clock
	life  map[account.Realm]Lifetimes
}

// NewManager returns a Manager; life gives each realm's lifetimes.
func NewManager(s Store, keys *token.Keys, c clock.Clock, life map[account.Realm]Lifetimes) *Manager {
	return &Manager{store: s, keys: keys, clock: c, life: life}
}

// Lifetimes returns realm's lifetimes.
func (m *Manager) Lifetimes(realm account.Realm) Lifetimes { return m.life[realm] }

// Start creates a new session for an account that has just authenticated
// and returns its token (the cookie value) and the stored session. The
// session carries acct's SessionEpoch as read when it authenticated: a
// password change, reset, suspension or "end all sessions" that commits
// meanwhile has moved the epoch, and the session is refused from its first
// check. Every call makes a fresh random id. When the browser presented a
// session token of this realm (presented, may be ""), that session ends in
// the same store change, so a planted cookie can never become a logged-in
// session and a failed login changes nothing.
func (m *Manager) Start(ctx context.Context, acct account.Account, ip, userAgent, presented string) (string, Session, error) {
	return m.StartAfterFactor(ctx, acct, ip, userAgent, presented, "")
}

// StartAfterFactor is Start for a login that also passed a second step by
// method (mfa.Method's value): the session says so (SecondFactor).
func (m *Manager) StartAfterFactor(ctx context.Context, acct account.Account, ip, userAgent, presented, method string) (string, Session, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", Session{}, fmt.Errorf("session: random id: %w", err)
	}
	sid := base64.RawURLEncoding.EncodeToString(raw)
	now := m.clock.Now()
	realm, accountID := acct.Realm, acct.ID
	life := m.life[realm]
	s := Session{
		Realm:         realm,
		AccountID:     accountID,
		Key:           keyOf(sid),
		CreatedAt:     now,
		LastSeenAt:    now,
		IdleExpiresAt: minTime(now.Add(life.Idle), now.Add(life.Absolute)),
		ExpiresAt:     now.Add(life.Absolute),
		IP:            ip,
		UserAgent:     truncate(userAgent, 256),
		Epoch:         acct.SessionEpoch,

		SecondFactor:    method,
		AuthenticatedAt: now,
	}
	tok, err := m.keys.Sign(token.Claims{Audience: string(realm), Subject: accountID, SessionID: sid, IssuedAt: now, ExpiresAt: s.ExpiresAt})
	if err != nil {
		return "", Session{}, fmt.Errorf("session: sign: %w", err)
	}
	if old, perr := parse(ctx, m.keys, realm, presented, now); perr == nil || errors.Is(perr, errTokenExpired) {
		err = m.store.ReplaceSession(ctx, s, old.sub, keyOf(old.sid))
	} else {
		err = m.store.CreateSession(ctx, s)
	}
	if err != nil {
		return "", Session{}, err
	}
	return tok, s, nil
}

// Check verifies token for realm and returns the live session it names and
// its account. The store item decides: a valid token whose item is gone, or
// whose epoch is not the account's (its sessions were ended after it
// authenticated), is ErrUnauthenticated; one past a deadline is ErrExpired
// (either item is deleted). When less than
// half the idle window remains, the idle deadline is pushed forward with one
// conditional write; otherwise Check costs exactly one read.
func (m *Manager) Check(ctx context.Context, realm account.Realm, token string) (Session, account.Account, error) {
	return m.check(ctx, realm, token, true)
}

// Peek is Check without the refresh: it never moves the idle deadline, so a
// page's own background checks (is my session still alive?) do not keep an
// idle session alive. Only what a person does extends it.
func (m *Manager) Peek(ctx context.Context, realm account.Realm, token string) (Session, account.Account, error) {
	return m.check(ctx, realm, token, false)
}

func (m *Manager) check(ctx context.Context, realm account.Realm, token string, refresh bool) (Session, account.Account, error) {
	now := m.clock.Now()
	p, err := parse(ctx, m.keys, realm, token, now)
	switch {
	case errors.Is(err, errTokenExpired):
		_ = m.store.DeleteSession(ctx, realm, p.sub, keyOf(p.sid))
		return Session{}, account.Account{}, ErrExpired
	case err != nil:
		return Session{}, account.Account{}, ErrUnauthenticated
	}
	s, a, err := m.store.GetSession(ctx, realm, p.sub, keyOf(p.sid))
	if errors.Is(err, store.ErrNotFound) {
		return Session{}, account.Account{}, ErrUnauthenticated
	}
	if err != nil {
		return Session{}, account.Account{}, err
	}
	if s.Epoch != a.SessionEpoch {
		// Ended by a write that could not see it; the item is clean-up only.
		if err := m.store.DeleteSession(ctx, realm, s.AccountID, s.Key); err != nil && !errors.Is(err, store.ErrNotFound) {
			return Session{}, account.Account{}, err
		}
		return Session{}, account.Account{}, ErrUnauthenticated
	}
	if !now.Before(s.ExpiresAt) || !now.Before(s.IdleExpiresAt) {
		// The item may linger until TTL clean-up; it is dead now.
		if err := m.store.DeleteSession(ctx, realm, s.AccountID, s.Key); err != nil && !errors.Is(err, store.ErrNotFound) {
			return Session{}, account.Account{}, err
		}
		return Session{}, account.Account{}, ErrExpired
	}
	idle := m.life[realm].Idle
	if refresh && s.IdleExpiresAt.Sub(now) < idle/2 {
		next := minTime(now.Add(idle), s.ExpiresAt)
		err := m.store.TouchSession(ctx, s, now, next)
		switch {
		case err == nil:
			s.LastSeenAt, s.IdleExpiresAt = now, next
		case errors.Is(err, store.ErrConflict):
			// Another request refreshed it first; the session is alive either way.
		case errors.Is(err, store.ErrNotFound):
			return Session{}, account.Account{}, ErrUnauthenticated
		default:
			// The session is valid for at least half an idle window more;
			// a failed refresh is retried on the next request.
		}
	}
	return s, a, nil
}

// End deletes the session token names, if it is a token of realm (expired or
// not). Anything else is ignored: logout is idempotent. It returns the
// account id of the session it ended, or "" when the token named none.
func (m *Manager) End(ctx context.Context, realm account.Realm, token string) (accountID string, err error) {
	p, perr := parse(ctx, m.keys, realm, token, m.clock.Now())
	if perr != nil && !errors.Is(perr, errTokenExpired) {
		return "", nil
	}
	if err := m.store.DeleteSession(ctx, realm, p.sub, keyOf(p.sid)); err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	return p.sub, nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// Identify returns the account and session key a token of realm names,
// checking only the signature, not the store: the reset flow uses it to
// spare the resetting browser's own session. ok is false for anything that
// is not a well-signed token of this realm.
func (m *Manager) Identify(ctx context.Context, realm account.Realm, token string) (accountID, key string, ok bool) {
	p, err := parse(ctx, m.keys, realm, token, m.clock.Now())
	if err != nil && !errors.Is(err, errTokenExpired) {
		return "", "", false
	}
	return p.sub, keyOf(p.sid), true
}

// Active returns an account's live sessions (expired ones that TTL has not
// cleaned up yet are left out), oldest first.
func (m *Manager) Active(ctx context.Context, realm account.Realm, accountID string) ([]Session, error) {
	all, err := m.store.ListSessions(ctx, realm, accountID)
	if err != nil {
		return nil, err
	}
	now := m.clock.Now()
	live := all[:0]
	for _, s := range all {
		if now.Before(s.ExpiresAt) && now.Before(s.IdleExpiresAt) {
			live = append(live, s)
		}
	}
	return live, nil
}

// EndOne ends one of an account's sessions by its public handle (key).
// ErrNotFound when the account has no such live session: someone else's
// handle is simply not found.
func (m *Manager) EndOne(ctx context.Context, realm account.Realm, accountID, key string) error {
	live, err := m.Active(ctx, realm, accountID)
	if err != nil {
		return err
	}
	for _, s := range live {
		if s.Key == key {
			return m.store.DeleteSession(ctx, realm, accountID, key)
		}
	}
	return store.ErrNotFound
}

// EndOthers ends every session of an account but keep (a login racing
// with it included), and says how many live ones ended (expired items
// awaiting clean-up go too, uncounted).
func (m *Manager) EndOthers(ctx context.Context, realm account.Realm, accountID, keep string) (int, error) {
	live, err := m.Active(ctx, realm, accountID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, s := range live {
		if s.Key != keep {
			n++
		}
	}
	if _, err := m.store.EndSessions(ctx, realm, accountID, []string{keep}); err != nil {
		return 0, err
	}
	return n, nil
}

// EndAll ends every session of an account (an admin's revocation).
// Unknown account: ErrNotFound.
func (m *Manager) EndAll(ctx context.Context, realm account.Realm, accountID string) (int, error) {
	return m.store.EndSessions(ctx, realm, accountID, nil)
}

// Reauthenticate records that s's person has just proved their password
// again (POST /v1/{realm}/reauth): its AuthenticatedAt becomes now.
// ErrUnauthenticated when the session is gone.
func (m *Manager) Reauthenticate(ctx context.Context, s Session) (Session, error) {
	now := m.clock.Now()
	err := m.store.Reauthenticate(ctx, s, now)
	if errors.Is(err, store.ErrNotFound) {
		return Session{}, ErrUnauthenticated
	}
	if err != nil {
		return Session{}, err
	}
	s.AuthenticatedAt = now
	return s, nil
}
