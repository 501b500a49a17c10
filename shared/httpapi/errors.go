package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/code"
	"github.com/ekolek/identity/shared/mfa"
	"github.com/ekolek/identity/shared/password"
	"github.com/ekolek/identity/shared/reset"
	"github.com/ekolek/identity/shared/session"
	"github.com/ekolek/identity/shared/store"
	"github.com/ekolek/identity/shared/throttle"
)

// apiError is an error response: status, stable code, a message for people,
// and per-field details.
type apiError struct {
	Status     int               `json:"-"`
	Code       string            `json:"code"`
	Message    string            `json:"message"`
	Fields     map[string]string `json:"fields,omitempty"`
	Reasons    []string          `json:"reasons,omitempty"`
	RetryAfter time.Duration     `json:"-"`
}

func (e *apiError) Error() string { return e.Code }

func errInvalid(msg string, fields map[string]string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: "invalid_request", Message: msg, Fields: fields}
}

var (
	errNotFound         = &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "No such resource."}
	errForbidden        = &apiError{Status: http.StatusForbidden, Code: "forbidden", Message: "You are not allowed to do this."}
	errCSRF             = &apiError{Status: http.StatusForbidden, Code: "csrf_failed", Message: "Missing or wrong X-CSRF-Token header."}
	errUnauthenticated  = &apiError{Status: http.StatusUnauthorized, Code: "unauthenticated", Message: "Log in first."}
	errExpired          = &apiError{Status: http.StatusUnauthorized, Code: "session_expired", Message: "Your session has expired; log in again."}
	errUnsupportedMedia = &apiError{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Message: "Send Content-Type: application/json."}
	errTooLarge         = &apiError{Status: http.StatusRequestEntityTooLarge, Code: "payload_too_large", Message: "The request body is larger than 16 KiB."}
	errUnavailable      = &apiError{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "The service is temporarily unavailable; nothing was changed. Try again shortly.", RetryAfter: 5 * time.Second}
	errOutcomeUnknown   = &apiError{Status: http.StatusServiceUnavailable, Code: "outcome_unknown", Message: "The service did not confirm the change; it may have been saved. Check before trying again.", RetryAfter: 5 * time.Second}
	errInternal         = &apiError{Status: http.StatusInternalServerError, Code: "internal", Message: "Something went wrong on our side."}
)

// errorFor is the one place that maps domain and store errors to responses.
// Anything it does not know is a 500 whose details stay in the log.
func errorFor(err error) *apiError {
	var ae *apiError
	var weak *password.WeakError
	var status *account.StatusError
	var invalid *account.ValidationError
	var refused *throttle.Refused
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &refused) && refused.Login():
		return &apiError{Status: http.StatusTooManyRequests, Code: "too_many_attempts", Message: "Too many attempts. Try again later.", RetryAfter: max(refused.RetryAfter, time.Second)}
	case errors.As(err, &refused):
		return &apiError{Status: http.StatusTooManyRequests, Code: "rate_limited", Message: "Too many requests from here. Try again later.", RetryAfter: max(refused.RetryAfter, time.Second)}
	case errors.Is(err, account.ErrInvalidCredentials):
		return &apiError{Status: http.StatusUnauthorized, Code: "invalid_credentials", Message: "Wrong identifier or password."}
	case errors.As(err, &status):
		return &apiError{Status: http.StatusForbidden, Code: "account_" + string(status.Status), Message: statusMessage[status.Status]}
	case errors.As(err, &weak):
		return &apiError{Status: http.StatusBadRequest, Code: "weak_password", Message: "Choose a longer or less guessable password.", Reasons: weak.Reasons}
	case errors.As(err, &invalid):
		return errInvalid("Some fields are not valid.", invalid.Fields)
	case errors.Is(err, account.ErrAlreadyRegistered):
		return &apiError{Status: http.StatusConflict, Code: "already_registered", Message: "An account with this email or mobile number already exists."}
	case errors.Is(err, account.ErrLastSuperAdmin):
		return &apiError{Status: http.StatusConflict, Code: "last_super_admin", Message: "The last active super admin cannot be demoted or suspended."}
	case errors.Is(err, account.ErrChangeSelf):
		return &apiError{Status: http.StatusConflict, Code: "cannot_change_self", Message: "You cannot change your own role or status; ask another super admin."}
	case errors.Is(err, account.ErrInvalidTransition):
		return &apiError{Status: http.StatusConflict, Code: "invalid_status_transition", Message: "That change is not possible from the account's current status."}
	case errors.Is(err, code.ErrInvalid):
		return &apiError{Status: http.StatusBadRequest, Code: "invalid_code", Message: "The code is wrong, expired or already used. Ask for a new one if needed."}
	case errors.Is(err, reset.ErrInvalidToken):
		return &apiError{Status: http.StatusBadRequest, Code: "invalid_token", Message: "The reset token is not valid (expired or already used). Start the reset again."}
	case errors.Is(err, mfa.ErrInvalidCredential):
		return errInvalidCredential
	case errors.Is(err, mfa.ErrInvalidCode):
		return &apiError{Status: http.StatusBadRequest, Code: "invalid_code", Message: "The code is wrong or was already used."}
	case errors.Is(err, mfa.ErrInvalidToken):
		return &apiError{Status: http.StatusBadRequest, Code: "invalid_token", Message: "This sign-in step has expired or was already used. Sign in again."}
	case errors.Is(err, mfa.ErrReauthRequired):
		return &apiError{Status: http.StatusForbidden, Code: "reauth_required", Message: "Confirm your password first (POST reauth), then try again within 5 minutes."}
	case errors.Is(err, mfa.ErrLastFactor):
		return &apiError{Status: http.StatusConflict, Code: "last_factor", Message: "This is your only second factor, and your account must have one. Add another first."}
	case errors.Is(err, mfa.ErrNoFactor):
		return &apiError{Status: http.StatusConflict, Code: "no_factor", Message: "Add a second factor first."}
	case errors.Is(err, session.ErrExpired):
		return errExpired
	case errors.Is(err, session.ErrUnauthenticated):
		return errUnauthenticated
	case errors.Is(err, store.ErrInvalidCursor):
		return errInvalid("The cursor is not valid.", map[string]string{"cursor": "not a cursor from this listing"})
	case errors.Is(err, store.ErrNotFound):
		return errNotFound
	case errors.Is(err, store.ErrConflict):
		return &apiError{Status: http.StatusConflict, Code: "conflict", Message: "The resource changed while you were changing it; reload and try again."}
	case errors.Is(err, store.ErrOutcomeUnknown):
		// Before the deadline case: a write cut off by the deadline after
		// it was sent is unknown, not unchanged.
		return errOutcomeUnknown
	case errors.Is(err, store.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		// A deadline error that no store wrapped is still the request's
		// deadline (ServeHTTP) passing during a call: 503, never 500.
		return errUnavailable
	}
	return errInternal
}

var statusMessage = map[account.Status]string{
	account.StatusPending:   "Your registration is waiting for approval by the environment office.",
	account.StatusRejected:  "Your registration was not approved. Contact the environment office.",
	account.StatusSuspended: "This account is suspended. Contact the environment office.",
}

// jsonContentType is every JSON answer's Content-Type, one slice for all:
// a header's value is replaced, never written into.
var jsonContentType = []string{"application/json; charset=utf-8"}

// writeJSON writes v with status. It is the one JSON writer. The body
// goes out with its length, so that sending it at once (statusWriter's
// deliver) does not turn it into a chunked one. An answer already
// encoded (answer.go) goes out as it is.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header()["Content-Type"] = jsonContentType
	if v == nil {
		w.WriteHeader(status)
		return
	}
	var body []byte
	if e, ok := v.(*encoded); ok {
		body = *e
	} else {
		body, _ = json.Marshal(v) // the API's own views and maps: they marshal
		body = append(body, '\n')
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeError writes e as {"error":{...}}.
func writeError(w http.ResponseWriter, e *apiError) {
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((e.RetryAfter+time.Second-1)/time.Second)))
	}
	writeJSON(w, e.Status, map[string]*apiError{"error": e})
}
