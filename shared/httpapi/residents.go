package httpapi

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/audit"
	"github.com/ekolek/identity/shared/text"
	"github.com/ekolek/identity/shared/throttle"
)

type registerRequest struct {
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Email     string `json:"email"`
	Phone     string `json:"phone"`
	Barangay  string `json:"barangay"`
	Password  string `json:"password" text:"verbatim"`
	Language  string `json:"language"`
}

// register is POST /v1/resident/register.
func (a *API) register(w http.ResponseWriter, r *http.Request, _ params) error {
	var in registerRequest
	if err := decode(r, &in, false); err != nil {
		return err
	}
	if err := a.Guard.Allow(r.Context(), throttle.RegisterIP, info(r).ip); err != nil {
		return a.refused(r, account.Resident, in.Email, err)
	}
	acct, repeated, err := a.Accounts.Register(r.Context(), account.Registration(in))
	if err != nil {
		return err
	}
	status, details := http.StatusCreated, map[string]string(nil)
	if repeated {
		// A retry of a registration already stored: the same answer, 200.
		// Its codes may never have gone out (the first answer was lost
		// before they were sent), so they are sent as at registration;
		// the code limits hold back a repeat within the cooldown.
		status, details = http.StatusOK, map[string]string{"repeated": "true"}
	}
	a.event(r, audit.AccountRegistered, account.Resident, acct.ID, acct.Email, details)
	a.Contact.SendAll(r.Context(), acct)
	writeJSON(w, status, map[string]any{"account": accountView(acct)})
	return nil
}

// listBarangays is GET /v1/barangays: the directory residents register in
// and admins are assigned from (EKOLEK_BARANGAYS). It needs no session: the
// registration page asks for it first.
func (a *API) listBarangays(w http.ResponseWriter, _ *http.Request, _ params) error {
	writeJSON(w, http.StatusOK, map[string]any{"barangays": a.Accounts.Barangays()})
	return nil
}

// requirePermission authenticates an admin and checks the permission
// matrix (account.Role.Can). A denial is 403 forbidden and a security event.
func (a *API) requirePermission(w http.ResponseWriter, r *http.Request, p account.Permission) (caller, error) {
	c, err := a.authenticate(w, r, account.Admin)
	if err != nil {
		return caller{}, err
	}
	if !c.account.Role.Can(p) {
		a.event(r, audit.AccessDenied, account.Admin, c.account.ID, "", map[string]string{
			"role": string(c.account.Role), "permission": string(p), "route": info(r).route,
		})
		return caller{}, errForbidden
	}
	return c, nil
}

// listResidents is GET /v1/admin/residents?status=&barangay=&q=&limit=&cursor=.
// An operations manager sees only the residents of their barangays.
func (a *API) listResidents(w http.ResponseWriter, r *http.Request, _ params) error {
	c, err := a.requirePermission(w, r, account.ReadResidents)
	if err != nil {
		return err
	}
	q := account.ListQuery{Realm: account.Resident, Limit: 50}
	query := r.URL.Query()
	fields := map[string]string{}
	if s := query.Get("status"); s != "" {
		if !slices.Contains(account.ResidentStatuses, account.Status(s)) {
			fields["status"] = "must be pending, approved, rejected or suspended"
		}
		q.Status = account.Status(s)
	}
	// Query text is read like body text (NFC, nothing invisible), and a
	// barangay of the directory in its spelling; one outside it may still
	// name residents registered before the directory.
	if s, err := text.Normalize(strings.TrimSpace(query.Get("barangay"))); err != nil {
		fields["barangay"] = err.Error()
	} else if s != "" {
		if b, ok := a.Accounts.Barangays().Canonical(s); ok {
			s = b
		}
		q.Barangays = []string{s}
	}
	if c.account.Role.ScopedToBarangays() {
		switch {
		case len(c.account.Barangays) == 0:
			// No barangays assigned means no residents, never all of them.
			writeJSON(w, http.StatusOK, map[string]any{"residents": []any{}, "next_cursor": nil})
			return nil
		case q.Barangays == nil:
			q.Barangays = c.account.Barangays
		case !slices.Contains(c.account.Barangays, q.Barangays[0]):
			// Another barangay's residents do not exist for this admin.
			writeJSON(w, http.StatusOK, map[string]any{"residents": []any{}, "next_cursor": nil})
			return nil
		}
	}
	if s, err := text.Normalize(strings.TrimSpace(query.Get("q"))); err != nil {
		fields["q"] = err.Error()
	} else if s != "" {
		if utf8.RuneCountInString(s) > 100 {
			fields["q"] = "at most 100 characters"
		}
		q.Prefixes = searchPrefixes(s)
	}
	q.Limit, q.Cursor = pageParams(query, fields, q.Limit)
	if len(fields) > 0 {
		return errInvalid("Some query parameters are not valid.", fields)
	}
	return a.listAccounts(w, r, q, "residents")
}

// listAccounts writes one page of the accounts q selects under name.
func (a *API) listAccounts(w http.ResponseWriter, r *http.Request, q account.ListQuery, name string) error {
	page, next, err := a.Accounts.List(r.Context(), q)
	if err != nil {
		return err
	}
	out := make([]any, 0, len(page))
	for _, acct := range page {
		out = append(out, accountView(acct))
	}
	writePage(w, name, out, next)
	return nil
}

// searchPrefixes turns what an admin typed into the prefixes a resident's
// name, email or phone may begin with: lower-cased, and for a number in a
// local form (0917…) also its international form (+63917…).
func searchPrefixes(s string) []string {
	s = strings.ToLower(s)
	out := []string{s}
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		if r == ' ' || r == '-' || r == '+' {
			return -1
		}
		return 'x'
	}, s)
	switch {
	case strings.Contains(digits, "x") || digits == "":
	case strings.HasPrefix(digits, "63"):
		out = append(out, "+"+digits)
	case strings.HasPrefix(digits, "0"):
		out = append(out, "+63"+digits[1:])
	default:
		out = append(out, "+"+digits)
	}
	return out
}

type historyJSON struct {
	At     string         `json:"at"`
	By     string         `json:"by"`
	From   account.Status `json:"from"`
	To     account.Status `json:"to"`
	Reason string         `json:"reason,omitempty"`
}

// getResident is GET /v1/admin/residents/{id}: the resident with verified
// flags, status history and how many sessions are active. Out of the
// admin's scope is 404.
func (a *API) getResident(w http.ResponseWriter, r *http.Request, p params) error {
	c, err := a.requirePermission(w, r, account.ReadResidents)
	if err != nil {
		return err
	}
	if !account.ValidID(p["id"]) {
		return errNotFound
	}
	res, err := a.Accounts.Get(r.Context(), account.Resident, p["id"])
	if err != nil {
		return err
	}
	if !c.account.Sees(res) {
		return errNotFound
	}
	sessions, err := a.Sessions.Active(r.Context(), account.Resident, res.ID)
	if err != nil {
		return err
	}
	history := make([]historyJSON, 0, len(res.History))
	for _, h := range res.History {
		history = append(history, historyJSON{At: h.At.Format(time.RFC3339), By: h.By, From: h.From, To: h.To, Reason: h.Reason})
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"account":         accountView(res),
		"status_history":  history,
		"active_sessions": len(sessions),
	})
	return nil
}

type statusChangeRequest struct {
	Reason string `json:"reason"`
}

// changeResidentStatus is POST /v1/admin/residents/{id}/{approve|reject|suspend|reactivate}.
func (a *API) changeResidentStatus(w http.ResponseWriter, r *http.Request, p params) error {
	c, err := a.requirePermission(w, r, account.ManageResidents)
	if err != nil {
		return err
	}
	act, ok := account.ParseAction(p["action"])
	if !ok || !account.ValidID(p["id"]) {
		return errNotFound
	}
	var in statusChangeRequest
	if err := decode(r, &in, true); err != nil {
		return err
	}
	if utf8.RuneCountInString(in.Reason) > 500 {
		return errInvalid("The reason is too long.", map[string]string{"reason": "at most 500 characters"})
	}
	acct, prev, ended, err := a.Accounts.ChangeResidentStatus(r.Context(), c.account, p["id"], act, in.Reason)
	if err != nil {
		return err
	}
	a.event(r, audit.AccountStatusChanged, account.Resident, acct.ID, "", map[string]string{
		"actor_id": c.account.ID, "action": string(act), "from": string(prev), "to": string(acct.Status), "reason": in.Reason,
	})
	if ended > 0 {
		a.event(r, audit.SessionRevoked, account.Resident, acct.ID, "", map[string]string{
			"actor_id": c.account.ID, "reason": "account_" + string(acct.Status), "count": strconv.Itoa(ended),
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"account": accountView(acct), "sessions_ended": ended})
	return nil
}
