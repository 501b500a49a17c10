package httpapi

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/clock"
	"github.com/ekolek/identity/shared/session"
	"github.com/ekolek/identity/shared/store/embedded"
	"github.com/ekolek/identity/shared/token"
)

// FuzzDecode feeds request decoding any body: it must never panic, and must
// either accept or refuse with a 400 or 413 client error.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"identifier":"juan@example.com","password":"x"}`, `{}`, `null`, `[]`, `{"a":1}`, `{"identifier":1}`,
		`{"identifier":"a"} x`, `{"identifier":"\ud800"}`, `{"identifier":"a","identifier":"b"}`, `{"IDENTIFIER":"a"}`,
		`{"pa\u017f\u017fword":"x"}`, `{"identifier":"a\u200bb"}`, `{"reason":"x","reason":1}`, `{"a":{"b":1,"b":2}}`,
		`{"identifier":1e999}`, `{"first_name":"Nin\u0303o"}`, strings.Repeat("{", 1000), `{"password":"` + strings.Repeat("a", 20000) + `"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, dst := range []any{&loginRequest{}, &registerRequest{}, &statusChangeRequest{}} {
			r := httptest.NewRequest("POST", "/", strings.NewReader(string(body)))
			r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, MaxBodyBytes)
			err := decode(r, dst, false)
			if err == nil {
				continue
			}
			ae, ok := err.(*apiError)
			if !ok || (ae.Status != 400 && ae.Status != 413) {
				t.Fatalf("decode(%q) = %v, want a 400 or 413 apiError", body, err)
			}
		}
	})
}

// FuzzSessionCookie sends any Cookie header to the session route: with no
// sessions in the store, every answer is 401 and none is a server error.
func FuzzSessionCookie(f *testing.F) {
	st, err := embedded.Open(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = st.Close() })
	keys, _ := token.NewKeys([]byte("fuzz-signing-key-0123456789abcdef012"))
	c := clock.NewManual(time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC))
	mgr := session.NewManager(st, keys, c, map[account.Realm]session.Lifetimes{
		account.Resident: {Idle: time.Hour, Absolute: 2 * time.Hour},
		account.Admin:    {Idle: time.Hour, Absolute: 2 * time.Hour},
	})
	api, err := New(Deps{Sessions: mgr, Clock: c, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		"ekolek_session=abc", "ekolek_session=eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "ekolek_admin_session=;ekolek_session==",
		"ekolek_session=" + strings.Repeat("a.", 600), `ekolek_session="quoted"`, "ekolek_session=a; ekolek_session=b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, cookie string) {
		for _, realm := range []string{"resident", "admin"} {
			r := httptest.NewRequest("GET", "/v1/"+realm+"/session", nil)
			r.Header.Set("Cookie", cookie)
			w := httptest.NewRecorder()
			api.ServeHTTP(w, r)
			if w.Code != 401 {
				t.Fatalf("cookie %q on %s: %d %s", cookie, realm, w.Code, w.Body)
			}
		}
	})
}
