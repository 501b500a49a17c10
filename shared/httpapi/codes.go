package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/audit"
	"github.com/ekolek/identity/shared/auth"
	"github.com/ekolek/identity/shared/code"
	"github.com/ekolek/identity/shared/notify"
	"github.com/ekolek/identity/shared/outbox"
	"github.com/ekolek/identity/shared/reset"
	"github.com/ekolek/identity/shared/throttle"
)

// CodeRouteFloor is the least time a code route takes to answer: a reset
// request, a verification resend, and the verification of a reset or
// contact code. Queueing a code for a real account (a few more DynamoDB
// writes, the code and its message in one transaction), or checking a code
// of one, takes longer than finding nothing; answering no sooner than this
// hides which one happened. Nothing in these requests waits for SES or SNS
// (the outbox), so the floor covers DynamoDB calls only: on DynamoDB Local
// 100 ms already made the two alike at the median and the 90th percentile;
// 150 ms leaves room for DynamoDB's latencies on AWS (docs/performance.md).
const CodeRouteFloor = 150 * time.Millisecond

// accepted is the one answer to requests that must not reveal whether an
// account exists.
var accepted = map[string]string{
	"status":  "accepted",
	"message": "If an account matches and the contact is verified, a code is on its way. It is valid for 10 minutes.",
}

// answerNoSoonerThan waits until start+floor (or the client leaves).
func answerNoSoonerThan(ctx context.Context, start time.Time, floor time.Duration) {
	t := time.NewTimer(time.Until(start.Add(floor)))
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

type resetRequest struct {
	Identifier *string `json:"identifier"`
	Channel    *string `json:"channel"`
}

// requestReset is POST /v1/{realm}/password-reset: 202 in every case.
func (a *API) requestReset(w http.ResponseWriter, r *http.Request, p params) error {
	start := time.Now()
	var in resetRequest
	if err := decode(r, &in, false); err != nil {
		return err
	}
	fields := map[string]string{}
	if in.Identifier == nil || *in.Identifier == "" || len(*in.Identifier) > 254 {
		fields["identifier"] = "required, at most 254 characters"
	}
	if in.Channel == nil || (*in.Channel != string(notify.Email) && *in.Channel != string(notify.SMS)) {
		fields["channel"] = `must be "email" or "sms"`
	}
	if len(fields) > 0 {
		return errInvalid("Give the identifier and a channel.", fields)
	}
	realm := p.realm()
	if err := a.Guard.Allow(r.Context(), throttle.ResetIP, info(r).ip); err != nil {
		return a.refused(r, realm, *in.Identifier, err)
	}
	accountID := ""
	// Admins have no phone on file: an SMS request for one sends nothing,
	// and the answer stays the same.
	if realm != account.Admin || *in.Channel != string(notify.SMS) {
		var err error
		if accountID, err = a.Reset.Request(r.Context(), realm, *in.Identifier, notify.Channel(*in.Channel)); err != nil {
			return err
		}
	}
	a.event(r, audit.PasswordResetRequested, realm, accountID, *in.Identifier, map[string]string{"channel": *in.Channel})
	answerNoSoonerThan(r.Context(), start, a.codeRouteFloor())
	writeJSON(w, http.StatusAccepted, accepted)
	return nil
}

func (a *API) codeRouteFloor() time.Duration {
	if a.CodeRouteFloor > 0 {
		return a.CodeRouteFloor
	}
	return CodeRouteFloor
}

type codeRequest struct {
	Identifier *string `json:"identifier"`
	Code       *string `json:"code"`
}

func (in codeRequest) validate() error {
	fields := map[string]string{}
	if in.Identifier == nil || *in.Identifier == "" || len(*in.Identifier) > 254 {
		fields["identifier"] = "required, at most 254 characters"
	}
	if in.Code == nil || *in.Code == "" || len(*in.Code) > 32 {
		fields["code"] = "required"
	}
	if len(fields) > 0 {
		return errInvalid("Give the identifier and the code.", fields)
	}
	return nil
}

// codeAttempt reads a code verification and spends one of the client IP's
// attempts on it.
func (a *API) codeAttempt(r *http.Request, realm account.Realm) (codeRequest, error) {
	var in codeRequest
	if err := decode(r, &in, false); err != nil {
		return in, err
	}
	if err := in.validate(); err != nil {
		return in, err
	}
	if err := a.Guard.Allow(r.Context(), throttle.CodeVerifyIP, info(r).ip); err != nil {
		return in, a.refused(r, realm, *in.Identifier, err)
	}
	return in, nil
}

// verifyReset is POST /v1/{realm}/password-reset/verify. Like the request,
// it answers no sooner than the floor, right code or wrong, known account or
// not.
func (a *API) verifyReset(w http.ResponseWriter, r *http.Request, p params) error {
	start := time.Now()
	defer answerNoSoonerThan(r.Context(), start, a.codeRouteFloor())
	in, err := a.codeAttempt(r, p.realm())
	if err != nil {
		return err
	}
	tok, exp, err := a.Reset.Verify(r.Context(), p.realm(), *in.Identifier, *in.Code)
	if err != nil {
		a.codeFailed(r, p.realm(), *in.Identifier, string(code.PasswordReset), err)
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"reset_token": tok, "expires_at": exp.Format(time.RFC3339)})
	return nil
}

// codeFailed records a code_failed event when err is a refused code. A wrong
// code that was judged carries its try's number ("attempt": 1 to
// code.MaxAttempts); a code refused without being compared (none, expired,
// used, out of tries) carries none.
func (a *API) codeFailed(r *http.Request, realm account.Realm, identifier, purpose string, err error) {
	if !errors.Is(err, code.ErrInvalid) {
		return
	}
	details := map[string]string{"purpose": purpose}
	var wrong *code.WrongError
	if errors.As(err, &wrong) {
		details["attempt"] = strconv.Itoa(wrong.Attempt)
	}
	a.event(r, audit.CodeFailed, realm, "", identifier, details)
}

type confirmRequest struct {
	ResetToken  *string `json:"reset_token"`
	NewPassword *string `json:"new_password" text:"verbatim"`
}

// confirmReset is POST /v1/{realm}/password-reset/confirm. The account's
// other sessions in this realm end; the session this browser presents (if it
// is the same account's) stays, and the other realm is never touched. The
// account's login lock is lifted.
func (a *API) confirmReset(w http.ResponseWriter, r *http.Request, p params) error {
	var in confirmRequest
	if err := decode(r, &in, false); err != nil {
		return err
	}
	fields := map[string]string{}
	if in.ResetToken == nil || *in.ResetToken == "" {
		fields["reset_token"] = "required"
	}
	if in.NewPassword == nil || *in.NewPassword == "" {
		fields["new_password"] = "required"
	}
	if len(fields) > 0 {
		return errInvalid("Give the reset token and the new password.", fields)
	}
	realm := p.realm()
	keep := func(accountID string) []string {
		if owner, key, ok := a.Sessions.Identify(r.Context(), realm, a.sessionToken(r, realm)); ok && owner == accountID {
			return []string{key}
		}
		return nil
	}
	acct, ended, err := a.Reset.Confirm(r.Context(), realm, *in.ResetToken, *in.NewPassword, keep)
	if errors.Is(err, reset.ErrInvalidToken) {
		a.event(r, audit.CodeFailed, realm, "", "", map[string]string{"purpose": "reset_token"})
	}
	if err != nil {
		return err
	}
	// The reset has committed: clearing the login lock (the owner proved a
	// contact, and anyone can lock an account with five wrong tries) is
	// best effort, like the events.
	if err := a.Guard.ResetCompleted(r.Context(), string(realm), auth.LockKeys(acct)); err != nil {
		a.Log.Warn("login lock not cleared after a password reset", "request_id", info(r).id, "account_id", acct.ID, "error", err.Error())
	}
	a.event(r, audit.PasswordResetCompleted, realm, acct.ID, "", map[string]string{"sessions_ended": strconv.Itoa(ended)})
	if ended > 0 {
		a.event(r, audit.SessionRevoked, realm, acct.ID, "", map[string]string{"reason": "password_reset", "count": strconv.Itoa(ended)})
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// verifyContact is POST /v1/resident/register/verify (floored like verifyReset).
func (a *API) verifyContact(w http.ResponseWriter, r *http.Request, _ params) error {
	start := time.Now()
	defer answerNoSoonerThan(r.Context(), start, a.codeRouteFloor())
	in, err := a.codeAttempt(r, account.Resident)
	if err != nil {
		return err
	}
	acct, kind, err := a.Contact.Verify(r.Context(), *in.Identifier, *in.Code)
	if err != nil {
		a.codeFailed(r, account.Resident, *in.Identifier, "verify_contact", err)
		return err
	}
	a.event(r, audit.ContactVerified, account.Resident, acct.ID, *in.Identifier, map[string]string{"contact": string(kind)})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type resendRequest struct {
	Identifier *string `json:"identifier"`
}

// resendContactCode is POST /v1/resident/register/resend: 202 in every case.
func (a *API) resendContactCode(w http.ResponseWriter, r *http.Request, _ params) error {
	start := time.Now()
	var in resendRequest
	if err := decode(r, &in, false); err != nil {
		return err
	}
	if in.Identifier == nil || *in.Identifier == "" || len(*in.Identifier) > 254 {
		return errInvalid("Give the email address or mobile number to verify.", map[string]string{"identifier": "required, at most 254 characters"})
	}
	if err := a.Guard.Allow(r.Context(), throttle.ResetIP, info(r).ip); err != nil {
		return a.refused(r, account.Resident, *in.Identifier, err)
	}
	if err := a.Contact.Resend(r.Context(), *in.Identifier); err != nil {
		return err
	}
	answerNoSoonerThan(r.Context(), start, a.codeRouteFloor())
	writeJSON(w, http.StatusAccepted, accepted)
	return nil
}

type outboxMessage struct {
	Channel notify.Channel `json:"channel"`
	To      string         `json:"to"`
	Subject string         `json:"subject"`
	Body    string         `json:"body"`
	// SentAt is when the message was delivered; null until it is.
	SentAt    *string      `json:"sent_at"`
	CreatedAt string       `json:"created_at"`
	State     outbox.State `json:"state"`
	Attempts  int          `json:"attempts"`
	LastError string       `json:"last_error,omitempty"`
}

// devOutbox is GET /dev/outbox, served only in local mode: the outbox of
// the last outbox.Retention, oldest first, each message opened, whether
// delivered yet or not (a code can be read from it at once after the
// request that queued it).
func (a *API) devOutbox(w http.ResponseWriter, r *http.Request, _ params) error {
	if a.Production || a.Outbox == nil {
		return errNotFound
	}
	now := a.Clock.Now()
	entries, err := a.Outbox.List(r.Context(), now.Add(-outbox.Retention), now.Add(time.Hour))
	if err != nil {
		return err
	}
	out := make([]outboxMessage, 0, len(entries))
	for _, e := range entries {
		m := outboxMessage{
			Channel: e.Channel, To: e.Content.To, Subject: e.Content.Subject, Body: e.Content.Text,
			CreatedAt: e.CreatedAt.Format(time.RFC3339Nano), State: e.State, Attempts: e.Attempts, LastError: e.LastError,
		}
		if e.State == outbox.Sent {
			at := e.UpdatedAt.Format(time.RFC3339Nano)
			m.SentAt = &at
		}
		out = append(out, m)
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": out})
	return nil
}
