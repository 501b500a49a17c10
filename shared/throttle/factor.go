package throttle

import "context"

// The second step of a login (a TOTP or recovery code after a right
// password) is counted like the password: a wrong code is a failed login
// of the identifier, so a second factor is not a fresh guessing oracle
// beside the password's.

// BeginFactor refuses a second-step try while the identifier is locked or
// ip has had its limit of failed logins, before anything is counted or
// compared.
func (g *Guard) BeginFactor(ctx context.Context, realm, identifier, ip string) error {
	now := g.clock.Now()
	k := keysFor(realm, identifier, ip)
	c, err := g.store.Peek(ctx, k.lock, now)
	if err != nil {
		return err
	}
	if c.Count > 0 {
		return &Refused{Limit: LoginIdentifier, RetryAfter: c.RetryAfter(now)}
	}
	if c, err = g.store.Peek(ctx, k.ipFailures, now); err != nil {
		return err
	}
	if c.Count >= g.limits.LoginIP.Max {
		return &Refused{Limit: LoginIP, RetryAfter: c.RetryAfter(now)}
	}
	return nil
}

// FactorDue settles a login attempt whose password was right for an
// account that must still pass a second step: the IP gets back the place
// BeginLogin took (a right password is no failure), and so does the
// identifier, but its earlier failures stay counted. Only a passed second
// step clears them (FactorSucceeded): were the right password to clear
// them, as a login's does, whoever holds the password could try four
// codes per password step for ever without reaching the lock.
func (g *Guard) FactorDue(ctx context.Context, realm, identifier, ip string) error {
	now := g.clock.Now()
	k := keysFor(realm, identifier, ip)
	if err := g.store.Release(ctx, k.ipFailures, now); err != nil {
		return err
	}
	return g.store.Release(ctx, k.attempts, now)
}

// FactorFailed counts a wrong second-step code as a failed login of
// identifier from ip: one attempt toward the identifier's lock (which it
// sets, reporting so, when the attempts reach the limit) and one failure
// toward the IP's limit.
func (g *Guard) FactorFailed(ctx context.Context, realm, identifier, ip string) (locked bool, err error) {
	now := g.clock.Now()
	k := keysFor(realm, identifier, ip)
	if _, err := g.store.Hit(ctx, k.ipFailures, g.limits.LoginIP.Max, g.limits.LoginIP.Window, now); err != nil {
		return false, err
	}
	if _, err := g.store.Hit(ctx, k.attempts, g.limits.LoginFailures.Max, g.limits.LoginFailures.Window, now); err != nil {
		return false, err
	}
	return g.LoginFailed(ctx, realm, identifier, ip)
}

// FactorSucceeded clears the identifier's attempts after a right code, as
// a right password does.
func (g *Guard) FactorSucceeded(ctx context.Context, realm, identifier string) error {
	return g.store.Clear(ctx, keysFor(realm, identifier, "").attempts)
}
