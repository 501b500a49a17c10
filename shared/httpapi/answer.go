package httpapi

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/session"
)

// The session check is the most frequent request, and encoding its answer
// through encoding/json's reflection cost more than reading the session
// did. Its answer is written here instead, field by field, to exactly the
// bytes writeJSON writes for {account: accountView, session: sessionView,
// permissions} (TestSessionAnswerIsWhatEncodingJSONWrites keeps the two
// alike, for every field of the views). The views stay the one definition
// of what an account and a session look like; every other answer is
// encoded from them.

// encoded is a JSON answer already written, newline included; writeJSON
// writes it as it is.
type encoded []byte

// answers are the buffers session answers are written into; a
// ResponseWriter does not keep what it is given to write.
var answers = sync.Pool{New: func() any { b := make(encoded, 0, 1024); return &b }}

// writeSessionAnswer writes GET /v1/{realm}/session's 200 answer.
func writeSessionAnswer(w http.ResponseWriter, a account.Account, s session.Session, perms []account.Permission) {
	buf := answers.Get().(*encoded)
	b := append((*buf)[:0], `{"account":`...)
	b = appendAccount(b, a)
	b = append(b, `,"session":`...)
	b = appendSession(b, s, true)
	if len(perms) > 0 {
		b = append(b, `,"permissions":[`...)
		for i, p := range perms {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, string(p))
		}
		b = append(b, ']')
	}
	b = append(b, "}\n"...)
	*buf = b
	writeJSON(w, http.StatusOK, buf)
	answers.Put(buf)
}

// appendAccount appends accountView(a) as encoding/json writes it.
func appendAccount(b []byte, a account.Account) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, a.ID)
	b = append(b, `,"realm":`...)
	b = appendString(b, string(a.Realm))
	b = append(b, `,"status":`...)
	b = appendString(b, string(a.Status))
	b = append(b, `,"email":`...)
	b = appendString(b, a.Email)
	b = append(b, `,"email_verified":`...)
	b = appendBool(b, a.EmailVerified)
	b = append(b, `,"language":`...)
	b = appendString(b, a.Language)
	b = append(b, `,"created_at":`...)
	b = appendTime(b, a.CreatedAt)
	if a.Realm == account.Admin {
		b = append(b, `,"username":`...)
		b = appendString(b, a.Username)
		b = append(b, `,"full_name":`...)
		b = appendString(b, a.FullName)
		b = append(b, `,"role":`...)
		b = appendString(b, string(a.Role))
		b = append(b, `,"barangays":[`...)
		for i, g := range a.Barangays {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, g)
		}
		return append(b, "]}"...)
	}
	b = append(b, `,"first_name":`...)
	b = appendString(b, a.FirstName)
	b = append(b, `,"last_name":`...)
	b = appendString(b, a.LastName)
	b = append(b, `,"phone":`...)
	b = appendString(b, a.Phone)
	b = append(b, `,"phone_verified":`...)
	b = appendBool(b, a.PhoneVerified)
	b = append(b, `,"barangay":`...)
	b = appendString(b, a.Barangay)
	return append(b, '}')
}

// appendSession appends sessionView(s, current) as encoding/json writes it.
func appendSession(b []byte, s session.Session, current bool) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, s.Key)
	b = append(b, `,"created_at":`...)
	b = appendTime(b, s.CreatedAt)
	b = append(b, `,"last_seen_at":`...)
	b = appendTime(b, s.LastSeenAt)
	b = append(b, `,"idle_expires_at":`...)
	b = appendTime(b, s.IdleExpiresAt)
	b = append(b, `,"expires_at":`...)
	b = appendTime(b, s.ExpiresAt)
	b = append(b, `,"ip":`...)
	b = appendString(b, s.IP)
	b = append(b, `,"user_agent":`...)
	b = appendString(b, s.UserAgent)
	b = append(b, `,"current":`...)
	b = appendBool(b, current)
	if s.SecondFactor != "" {
		b = append(b, `,"second_factor":`...)
		b = appendString(b, s.SecondFactor)
	}
	return append(b, '}')
}

// appendString appends s as a JSON string. Printable ASCII other than
// the characters encoding/json escapes is copied; anything else (a user
// agent can hold anything) is left to encoding/json, so the escapes are
// its own.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendTime appends t as the views write times: RFC 3339 to the second,
// a string (of digits, '-', ':', 'T', 'Z' and '+': nothing to escape).
func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339)
	return append(b, '"')
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, "true"...)
	}
	return append(b, "false"...)
}
