package session

import (
	"strings"
	"testing"
	"time"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/token"
)

var testKey = []byte("test-signing-key-0123456789abcdef0123")

func testToken(t testing.TB, k *token.Keys, realm account.Realm, now time.Time) string {
	t.Helper()
	tok, err := k.Sign(token.Claims{Audience: string(realm), Subject: "acct1", SessionID: strings.Repeat("s", sidLen), IssuedAt: now, ExpiresAt: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestParse(t *testing.T) {
	now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	k, _ := token.NewKeys(testKey)
	tok := testToken(t, k, account.Resident, now)

	if p, err := parse(t.Context(), k, account.Resident, tok, now); err != nil || p.sub != "acct1" {
		t.Fatalf("own token: %+v %v", p, err)
	}
	if _, err := parse(t.Context(), k, account.Admin, tok, now); err != errBadToken {
		t.Fatalf("resident token as admin: %v", err)
	}
	if p, err := parse(t.Context(), k, account.Resident, tok, now.Add(time.Hour)); err != errTokenExpired || p.sub != "acct1" {
		t.Fatalf("at exp: %+v %v", p, err)
	}
	// A reset token (another audience, no sid) is not a session token.
	reset, _ := k.Sign(token.Claims{Audience: "resident:password_reset", Subject: "acct1", ID: "rec", IssuedAt: now, ExpiresAt: now.Add(time.Hour)})
	if _, err := parse(t.Context(), k, account.Resident, reset, now); err != errBadToken {
		t.Fatalf("reset token as session: %v", err)
	}
	noSID, _ := k.Sign(token.Claims{Audience: "resident", Subject: "acct1", IssuedAt: now, ExpiresAt: now.Add(time.Hour)})
	if _, err := parse(t.Context(), k, account.Resident, noSID, now); err != errBadToken {
		t.Fatalf("token without sid: %v", err)
	}
}

// FuzzParse feeds the cookie parser anything. It must never panic, and a
// token it accepts must name the one account and session that were signed:
// changing bytes cannot produce someone else's session.
func FuzzParse(f *testing.F) {
	now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	k, _ := token.NewKeys(testKey)
	tok := testToken(f, k, account.Resident, now)
	parts := strings.Split(tok, ".")
	f.Add(tok)
	f.Add("")
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJub25lIn0." + parts[1] + ".")
	f.Add(parts[0] + "." + parts[1] + ".")
	f.Add(tok + tok)
	f.Add(strings.ToUpper(tok))
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parse(t.Context(), k, account.Resident, s, now)
		if err == nil || err == errTokenExpired {
			if p.sub != "acct1" || p.sid != strings.Repeat("s", sidLen) {
				t.Fatalf("accepted a token naming %+v", p)
			}
		}
	})
}
