package httpapi

import (
	"net/http"

	"github.com/ekolek/identity/shared/account"
)

// page is GET / and GET /{proxy+}: the pages (Deps.Pages, package web),
// with the headers of every answer (securityHeaders) under the pages' own
// CSP and caching. / sends a browser holding a resident session cookie to
// /account and any other to /login; whether that session still lives is
// for /account to find out, so this reads no store. /admin, as people type
// it, is the console's /admin/.
func (a *API) page(w http.ResponseWriter, r *http.Request, _ params) error {
	if a.Pages == nil {
		return errNotFound
	}
	switch r.URL.Path {
	case "/":
		to := "/login"
		if a.sessionToken(r, account.Resident) != "" {
			to = "/account"
		}
		w.Header().Set("Location", to)
		w.WriteHeader(http.StatusFound)
		return nil
	case "/admin":
		w.Header().Set("Location", "/admin/")
		w.WriteHeader(http.StatusFound)
		return nil
	}
	a.Pages.ServeHTTP(w, r)
	return nil
}
