package throttle

import "context"

// The second step of a login (a TOTP or recovery code after a right
// password) is counted like the password: a wrong code is a failed login
// of the identifier, so a second factor is not a fresh guessing oracle
// beside the password's.

// BeginFactor refuses a second-step try while the identifier is locked,
// before anything is counted or compared.
func (g *Guard) BeginFactor(ctx context.Context, realm, identifier string) error {
	now := g.clock.Now()
	c, err := g.store.Peek(ctx, keysFor(realm, identifier, "").lock, now)
	if err != nil {
		return err
	}
	if c.Count > 0 {
		return &Refused{Limit: LoginIdentifier, RetryAfter: c.RetryAfter(now)}
	}
	return nil
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
