package app

import (
	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/audit"
	"github.com/ekolek/identity/shared/auth"
	"github.com/ekolek/identity/shared/code"
	"github.com/ekolek/identity/shared/contact"
	"github.com/ekolek/identity/shared/mfa"
	"github.com/ekolek/identity/shared/reset"
	"github.com/ekolek/identity/shared/session"
	"github.com/ekolek/identity/shared/throttle"
)

// Services are the domain services the handler calls.
type Services struct {
	Accounts *account.Service
	Sessions *session.Manager
	Contact  *contact.Service
	Reset    *reset.Service
	Guard    *throttle.Guard
	Audit    *audit.Recorder
	// Auth is the login and password-change use cases.
	Auth *auth.Service
	// MFA is the second factor: enrollment, management, the second step.
	MFA *mfa.Service
	// Passkeys are the WebAuthn ceremonies; nil without the part.
	Passkeys mfa.Passkeys
}

// services builds the domain services on a's store, keys and clock with
// the parts p: every part this program has (App.Services), or only those a
// handler's routes declare (Handler). They hold no state of their own, so
// building them again per handler costs nothing at run time.
func (a *App) services(p built) (Services, error) {
	cfg := a.Config
	guard := throttle.NewGuard(a.Store, cfg.Limits, a.Clock)
	// Messages are queued through a store that tells the local sender.
	queue := writtenStore{Store: a.Store, written: a.written}
	codes := code.NewEngine(queue, a.Store, cfg.DataKey, a.Clock)
	messages := code.NewOutbox(a.composer, queue, a.Store, guard, cfg.SMSDailyCap, a.Clock)
	s := Services{
		Accounts: account.NewService(a.Store, a.hasher, p.checks, cfg.Barangays, a.Clock),
		Sessions: session.NewManager(a.Store, a.keys, a.Clock, map[account.Realm]session.Lifetimes{
			account.Resident: {Idle: cfg.ResidentIdleTimeout, Absolute: cfg.ResidentSessionTTL},
			account.Admin:    {Idle: cfg.AdminIdleTimeout, Absolute: cfg.AdminSessionTTL},
		}),
		Contact: contact.NewService(a.Store, codes, messages, p.checks, a.Clock, a.Log),
		Reset:   reset.NewService(a.Store, codes, messages, a.hasher, p.checks, a.keys, a.Clock, a.Log),
		Guard:   guard,
		Audit:   audit.NewRecorder(a.Store, a.Log, a.Clock, cfg.AuditRetention),
	}
	s.MFA = mfa.NewService(mfa.Deps{
		Store: a.Store, Accounts: a.Store, Keys: a.mfaKeys, Tokens: a.keys, Guard: guard, Clock: a.Clock,
		Policy: mfa.Policy{AdminRequired: cfg.AdminMFARequired}, TOTP: p.totp, Notices: messages, Log: a.Log,
	})
	if p.passkeys != nil {
		var err error
		rp := mfa.RelyingParty{ID: cfg.WebAuthnRPID, Origins: cfg.WebAuthnOrigins}
		if s.Passkeys, err = p.passkeys(rp, a.Store, s.MFA, a.Clock); err != nil {
			return Services{}, err
		}
	}
	s.Auth = auth.NewService(auth.Deps{
		Accounts: s.Accounts, Checks: p.checks, Sessions: s.Sessions, Guard: s.Guard, Trail: s.Audit,
		Notices: s.Reset, MFA: s.MFA, Passkeys: s.Passkeys, Log: a.Log,
	})
	return s, nil
}
