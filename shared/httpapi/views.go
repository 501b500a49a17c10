package httpapi

import (
	"time"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/session"
)

// accountBase is what residents and admins have in common in responses;
// never the password hash or the store version.
type accountBase struct {
	ID            string         `json:"id"`
	Realm         account.Realm  `json:"realm"`
	Status        account.Status `json:"status"`
	Email         string         `json:"email"`
	EmailVerified bool           `json:"email_verified"`
	Language      string         `json:"language"`
	CreatedAt     string         `json:"created_at"`
}

type residentView struct {
	accountBase
	FirstName     string `json:"first_name"`
	LastName      string `json:"last_name"`
	Phone         string `json:"phone"`
	PhoneVerified bool   `json:"phone_verified"`
	Barangay      string `json:"barangay"`
}

type adminView struct {
	accountBase
	Username  string       `json:"username"`
	FullName  string       `json:"full_name"`
	Role      account.Role `json:"role"`
	Barangays []string     `json:"barangays"`
}

// accountView is an account as clients see it.
func accountView(a account.Account) any {
	base := accountBase{
		ID: a.ID, Realm: a.Realm, Status: a.Status, Email: a.Email, EmailVerified: a.EmailVerified,
		Language: a.Language, CreatedAt: a.CreatedAt.Format(time.RFC3339),
	}
	if a.Realm == account.Admin {
		return adminView{accountBase: base, Username: a.Username, FullName: a.FullName, Role: a.Role, Barangays: nonNil(a.Barangays)}
	}
	return residentView{accountBase: base, FirstName: a.FirstName, LastName: a.LastName, Phone: a.Phone,
		PhoneVerified: a.PhoneVerified, Barangay: a.Barangay}
}

// sessionJSON shows a session by its public handle (the hash of its id, which
// cannot be turned back into a cookie).
type sessionJSON struct {
	ID            string `json:"id"`
	CreatedAt     string `json:"created_at"`
	LastSeenAt    string `json:"last_seen_at"`
	IdleExpiresAt string `json:"idle_expires_at"`
	ExpiresAt     string `json:"expires_at"`
	IP            string `json:"ip"`
	UserAgent     string `json:"user_agent"`
	Current       bool   `json:"current"`
	// SecondFactor is how the login passed its second step (totp,
	// webauthn, recovery); absent for a password alone.
	SecondFactor string `json:"second_factor,omitempty"`
}

func sessionView(s session.Session, current bool) sessionJSON {
	return sessionJSON{
		ID:            s.Key,
		CreatedAt:     s.CreatedAt.Format(time.RFC3339),
		LastSeenAt:    s.LastSeenAt.Format(time.RFC3339),
		IdleExpiresAt: s.IdleExpiresAt.Format(time.RFC3339),
		ExpiresAt:     s.ExpiresAt.Format(time.RFC3339),
		IP:            s.IP,
		UserAgent:     s.UserAgent,
		Current:       current,
		SecondFactor:  s.SecondFactor,
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
