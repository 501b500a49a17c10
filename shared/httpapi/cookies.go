package httpapi

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"time"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/audit"
)

// cookieNames are the cookie names in force: production adds the __Host-
// prefix, which browsers accept only with Secure, Path=/ and no Domain, so no
// sibling subdomain can plant or shadow them.
type cookieNames struct {
	session map[account.Realm]string
	csrf    string
	secure  bool
}

func namesFor(production bool) cookieNames {
	p := ""
	if production {
		p = "__Host-"
	}
	return cookieNames{
		session: map[account.Realm]string{
			account.Resident: p + "ekolek_session",
			account.Admin:    p + "ekolek_admin_session",
		},
		csrf:   p + "ekolek_csrftoken",
		secure: production,
	}
}

// setCookie is the one cookie writer: every cookie is Path=/, SameSite=Lax,
// Secure in production; only the CSRF cookie is readable by scripts. A zero
// expires makes a browser-session cookie (no Expires, no Max-Age: it ends
// when the browser closes); an empty value clears the cookie.
func (a *API) setCookie(w http.ResponseWriter, name, value string, expires time.Time, httpOnly bool) {
	c := &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		HttpOnly: httpOnly,
		Secure:   a.cookies.secure,
		SameSite: http.SameSiteLaxMode,
	}
	switch {
	case value == "":
		c.MaxAge = -1
	case !expires.IsZero():
		c.Expires = expires
		c.MaxAge = max(int(expires.Sub(a.Clock.Now())/time.Second), 1)
	}
	http.SetCookie(w, c)
}

// sessionToken is the realm's session cookie value, or "".
func (a *API) sessionToken(r *http.Request, realm account.Realm) string {
	c, err := r.Cookie(a.cookies.session[realm])
	if err != nil {
		return ""
	}
	return c.Value
}

// setSession sets realm's session cookie. It outlives the browser (until
// expires, the session's absolute expiry) only for a resident who asked to be
// remembered on this device; an admin's is always a browser-session cookie,
// so closing the browser of a shared computer signs the admin out. The
// session's lifetimes on the server are the same either way.
func (a *API) setSession(w http.ResponseWriter, realm account.Realm, token string, expires time.Time, remember bool) {
	if realm != account.Resident || !remember {
		expires = time.Time{}
	}
	a.setCookie(w, a.cookies.session[realm], token, expires, true)
}

// clearSession removes only realm's session cookie; the other realm's cookie
// and the shared CSRF cookie stay.
func (a *API) clearSession(w http.ResponseWriter, realm account.Realm) {
	a.setCookie(w, a.cookies.session[realm], "", time.Time{}, true)
}

const csrfLen = 43 // 32 random bytes, base64url without padding

// newCSRFToken returns a fresh CSRF token. Every login issues one, so a
// token planted in the browser before the login (a sibling site can set a
// cookie) is never the token of a logged-in session. The cookie is shared
// by both realms: the other realm's pages read it again for each request.
func newCSRFToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// requireCSRF refuses (and records) an unsafe request that presents token,
// realm's session cookie, without a matching CSRF header. A token we signed
// names its account, and its refusals are each stored with that account;
// anything else is a made-up cookie that costs nothing to send, so its
// refusals are a stranger's (strangerEvent). The signature decides, not the
// session item: reading the session would let a cross-site request touch it.
func (a *API) requireCSRF(r *http.Request, realm account.Realm, token string) error {
	if a.checkCSRF(r) {
		return nil
	}
	details := map[string]string{"route": info(r).route}
	if accountID, _, signed := a.Sessions.Identify(r.Context(), realm, token); signed {
		a.event(r, audit.CSRFFailed, realm, accountID, "", details)
	} else {
		a.strangerEvent(r, audit.CSRFFailed, realm, "", details)
	}
	return errCSRF
}

// checkCSRF is the double-submit check for unsafe requests that carry a
// session: the X-CSRF-Token header must equal the CSRF cookie. A cross-site
// page can make the browser send the cookie but cannot read it to set the header.
func (a *API) checkCSRF(r *http.Request) bool {
	c, err := r.Cookie(a.cookies.csrf)
	h := r.Header.Get("X-CSRF-Token")
	if err != nil || len(c.Value) != csrfLen || len(h) != csrfLen {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(c.Value), []byte(h)) == 1
}
