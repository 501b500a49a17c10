package httpapi

import (
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/session"
	"github.com/ekolek/identity/shared/testfill"
)

// awkward are strings encoding/json escapes, each in its own way.
var awkward = []string{
	"plain", "", `quote " and \ backslash`, "<script>&amp;</script>", "tab\tnewline\ncontrol\x01\x1f",
	"del\x7f", "ñ and 日本 and 🙂", "invalid \xff\xfe utf-8", "line\u2028paragraph\u2029", "Mozilla/5.0 (X11; Linux x86_64)",
}

// TestSessionAnswerIsWhatEncodingJSONWrites: the session answer written
// field by field is, byte for byte, what writeJSON writes for the views,
// for residents and admins, with every field set to awkward text, and
// with empty ones.
func TestSessionAnswerIsWhatEncodingJSONWrites(t *testing.T) {
	for i := range len(awkward) {
		// Every field awkward text, a different one for each field and round.
		text := func(n int) string { return awkward[(n+i)%len(awkward)] + fmt.Sprint(n) }
		var a account.Account
		var s session.Session
		testfill.Struct(t, &a, text)
		testfill.Struct(t, &s, text)
		for _, c := range []struct {
			name  string
			a     account.Account
			s     session.Session
			perms []account.Permission
		}{
			{"resident", withRealm(a, account.Resident), s, nil},
			{"admin", withRealm(a, account.Admin), s, account.RoleSuperAdmin.Permissions()},
			{"admin without barangays", func() account.Account { a := withRealm(a, account.Admin); a.Barangays = nil; return a }(), s, []account.Permission{}},
			{"empty resident", account.Account{Realm: account.Resident}, session.Session{}, nil},
			{"empty admin", account.Account{Realm: account.Admin}, session.Session{}, nil},
		} {
			want := httptest.NewRecorder()
			writeJSON(want, 200, struct {
				Account     any                  `json:"account"`
				Session     sessionJSON          `json:"session"`
				Permissions []account.Permission `json:"permissions,omitempty"`
			}{accountView(c.a), sessionView(c.s, true), c.perms})
			got := httptest.NewRecorder()
			writeSessionAnswer(got, c.a, c.s, c.perms)
			if got.Body.String() != want.Body.String() {
				t.Fatalf("%s (%d):\n got %s\nwant %s", c.name, i, got.Body, want.Body)
			}
			if got.Code != want.Code || got.Header().Get("Content-Type") != want.Header().Get("Content-Type") {
				t.Fatalf("%s: %d %q, want %d %q", c.name, got.Code, got.Header().Get("Content-Type"), want.Code, want.Header().Get("Content-Type"))
			}
		}
	}
}

func withRealm(a account.Account, r account.Realm) account.Account {
	a.Realm = r
	return a
}

// FuzzAppendString: any string is appended as encoding/json writes it.
func FuzzAppendString(f *testing.F) {
	for _, s := range awkward {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := httptest.NewRecorder()
		writeJSON(want, 200, s)
		got := string(appendString(nil, s)) + "\n"
		if got != want.Body.String() {
			t.Fatalf("%q: got %s want %s", s, got, want.Body)
		}
	})
}
