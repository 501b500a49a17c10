package httpapi

import (
	"net/http"
	"slices"
	"time"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/audit"
)

type eventJSON struct {
	ID         string            `json:"id"`
	Type       audit.Type        `json:"type"`
	Realm      account.Realm     `json:"realm,omitempty"`
	AccountID  string            `json:"account_id,omitempty"`
	Identifier string            `json:"identifier,omitempty"`
	IP         string            `json:"ip,omitempty"`
	UserAgent  string            `json:"user_agent,omitempty"`
	RequestID  string            `json:"request_id,omitempty"`
	Time       string            `json:"time"`
	Details    map[string]string `json:"details,omitempty"`
}

// listEvents is GET /v1/admin/security-events?type=&realm=&account=&since=&until=&limit=&cursor=.
func (a *API) listEvents(w http.ResponseWriter, r *http.Request, _ params) error {
	if _, err := a.requirePermission(w, r, account.ReadSecurityEvents); err != nil {
		return err
	}
	query := r.URL.Query()
	q := audit.Query{Limit: 50}
	fields := map[string]string{}
	if v := query.Get("type"); v != "" {
		if !slices.Contains(audit.Types, audit.Type(v)) {
			fields["type"] = "not an event type"
		}
		q.Type = audit.Type(v)
	}
	if v := query.Get("realm"); v != "" {
		if v != string(account.Resident) && v != string(account.Admin) {
			fields["realm"] = "must be resident or admin"
		}
		q.Realm = account.Realm(v)
	}
	if v := query.Get("account"); v != "" {
		if !account.ValidID(v) {
			fields["account"] = "not an account id"
		} else if q.Realm == "" {
			fields["realm"] = "required with account"
		}
		q.AccountID = v
	}
	for name, dst := range map[string]*time.Time{"since": &q.Since, "until": &q.Until} {
		if v := query.Get(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				fields[name] = "must be an RFC 3339 time such as 2026-11-27T08:00:00Z"
			}
			*dst = t
		}
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
		fields["since"] = "must be before until"
	}
	q.Limit, q.Cursor = pageParams(query, fields, q.Limit)
	if len(fields) > 0 {
		return errInvalid("Some query parameters are not valid.", fields)
	}
	events, next, err := a.Events.QueryEvents(r.Context(), q)
	if err != nil {
		return err
	}
	out := make([]eventJSON, 0, len(events))
	for _, e := range events {
		out = append(out, eventJSON{
			ID: e.ID, Type: e.Type, Realm: e.Realm, AccountID: e.AccountID, Identifier: e.Identifier,
			IP: e.IP, UserAgent: e.UserAgent, RequestID: e.RequestID, Time: e.Time.Format(time.RFC3339Nano), Details: e.Details,
		})
	}
	writePage(w, "events", out, next)
	return nil
}
