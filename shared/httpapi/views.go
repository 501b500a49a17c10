package httpapi

import (
	"time"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/session"
)

// accountView is an account as clients see it: never its password hash or version.
func accountView(a account.Account) map[string]any {
	v := map[string]any{
		"id":             a.ID,
		"realm":          a.Realm,
		"status":         a.Status,
		"email":          a.Email,
		"email_verified": a.EmailVerified,
		"language":       a.Language,
		"created_at":     a.CreatedAt.Format(time.RFC3339),
	}
	if a.Realm == account.Admin {
		v["username"] = a.Username
		v["full_name"] = a.FullName
		v["role"] = a.Role
		v["barangays"] = nonNil(a.Barangays)
		return v
	}
	v["first_name"] = a.FirstName
	v["last_name"] = a.LastName
	v["phone"] = a.Phone
	v["phone_verified"] = a.PhoneVerified
	v["barangay"] = a.Barangay
	return v
}

// sessionView shows a session by its public handle (the hash of its id, which
// cannot be turned back into a cookie).
func sessionView(s session.Session, current bool) map[string]any {
	return map[string]any{
		"id":              s.Key,
		"created_at":      s.CreatedAt.Format(time.RFC3339),
		"last_seen_at":    s.LastSeenAt.Format(time.RFC3339),
		"idle_expires_at": s.IdleExpiresAt.Format(time.RFC3339),
		"expires_at":      s.ExpiresAt.Format(time.RFC3339),
		"ip":              s.IP,
		"user_agent":      s.UserAgent,
		"current":         current,
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
