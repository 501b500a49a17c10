package session

import (
	"strings"
	"testing"
	"time"

	"github.com/ekolek/identity/shared/account"
)

var testKey = []byte("test-signing-key-0123456789abcdef0123")

func testToken(t testing.TB, k *Keys, realm account.Realm, now time.Time) string {
	t.Helper()
	tok, err := k.sign(realm, "acct1", strings.Repeat("s", sidLen), now, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestParse(t *testing.T) {
	now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	k, _ := NewKeys(testKey)
	tok := testToken(t, k, account.Resident, now)

	if p, err := k.parse(account.Resident, tok, now); err != nil || p.sub != "acct1" {
		t.Fatalf("own token: %+v %v", p, err)
	}
	if _, err := k.parse(account.Admin, tok, now); err != errBadToken {
		t.Fatalf("resident token as admin: %v", err)
	}
	if p, err := k.parse(account.Resident, tok, now.Add(time.Hour)); err != errTokenExpired || p.sub != "acct1" {
		t.Fatalf("at exp: %+v %v", p, err)
	}

	// Rotation: a token signed with the previous key still verifies.
	rotated, _ := NewKeys([]byte("the-new-signing-key-0123456789abcdef"), testKey)
	if _, err := rotated.parse(account.Resident, tok, now); err != nil {
		t.Fatalf("token under previous key: %v", err)
	}
	other, _ := NewKeys([]byte("the-new-signing-key-0123456789abcdef"))
	if _, err := other.parse(account.Resident, tok, now); err != errBadToken {
		t.Fatalf("token under unknown key: %v", err)
	}
	if _, err := NewKeys([]byte("short")); err == nil {
		t.Fatal("short key accepted")
	}
}

// FuzzParse feeds the cookie parser anything. It must never panic, and a
// token it accepts must name the one account and session that were signed:
// changing bytes cannot produce someone else's session.
func FuzzParse(f *testing.F) {
	now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	k, _ := NewKeys(testKey)
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
		p, err := k.parse(account.Resident, s, now)
		if err == nil || err == errTokenExpired {
			if p.sub != "acct1" || p.sid != strings.Repeat("s", sidLen) {
				t.Fatalf("accepted a token naming %+v", p)
			}
		}
	})
}
