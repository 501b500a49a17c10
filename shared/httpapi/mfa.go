package httpapi

import (
	"errors"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/audit"
	"github.com/ekolek/identity/shared/mfa"
)

// maxFactorName bounds the name a person gives a factor.
const maxFactorName = 64

// factorJSON is a factor as its owner sees it: never its secret or key.
type factorJSON struct {
	ID         string   `json:"id"`
	Type       mfa.Type `json:"type"`
	Name       string   `json:"name"`
	CreatedAt  string   `json:"created_at"`
	LastUsedAt *string  `json:"last_used_at"`
}

func factorView(f mfa.Factor) factorJSON {
	v := factorJSON{ID: f.ID, Type: f.Type, Name: f.Name, CreatedAt: f.CreatedAt.Format(time.RFC3339)}
	if !f.LastUsedAt.IsZero() {
		used := f.LastUsedAt.Format(time.RFC3339)
		v.LastUsedAt = &used
	}
	return v
}

// getMFA is GET /v1/{realm}/mfa: my active factors, how many recovery
// codes are left, and whether I must keep a factor.
func (a *API) getMFA(w http.ResponseWriter, r *http.Request, p params) error {
	c, err := a.authenticate(w, r, p.realm())
	if err != nil {
		return err
	}
	o, err := a.MFA.Overview(r.Context(), c.account)
	if err != nil {
		return err
	}
	factors := make([]factorJSON, 0, len(o.Factors))
	for _, f := range o.Factors {
		factors = append(factors, factorView(f))
	}
	writeJSON(w, http.StatusOK, struct {
		Factors           []factorJSON `json:"factors"`
		RecoveryCodesLeft int          `json:"recovery_codes_left"`
		Required          bool         `json:"required"`
	}{factors, o.RecoveryLeft, o.Required})
	return nil
}

// enrolling is the account an enrollment route acts for: the signed-in
// caller, or, when the body carries an mfa_token, the account of that
// enrollment token (an admin who must have a second factor, at the login
// that found none), which stands in for a session.
func (a *API) enrolling(w http.ResponseWriter, r *http.Request, realm account.Realm, mfaToken *string) (account.Account, error) {
	if mfaToken != nil {
		return a.MFA.OpenEnrollment(r.Context(), realm, *mfaToken)
	}
	c, err := a.authenticate(w, r, realm)
	return c.account, err
}

// signedInUnless is the signed-in caller of an enrollment route that
// confirms a factor, unless the body carries an mfa_token (which the
// confirmation checks itself): then there is none to read.
func (a *API) signedInUnless(w http.ResponseWriter, r *http.Request, realm account.Realm, mfaToken *string) (caller, error) {
	if mfaToken != nil {
		return caller{}, nil
	}
	return a.authenticate(w, r, realm)
}

// writeEnrolled answers a factor a signed-in caller added: the factor,
// and the recovery codes when it was the account's first (shown once).
func writeEnrolled(w http.ResponseWriter, c mfa.Confirmed) {
	writeJSON(w, http.StatusOK, struct {
		Factor        factorJSON `json:"factor"`
		RecoveryCodes []string   `json:"recovery_codes,omitempty"`
	}{factorView(c.Factor), c.RecoveryCodes})
}

// factorName checks the name a person gives a factor ("" when none).
func factorName(name *string) (string, error) {
	if name == nil {
		return "", nil
	}
	if utf8.RuneCountInString(*name) > maxFactorName {
		return "", errInvalid("The name is too long.", map[string]string{"name": "at most 64 characters"})
	}
	return *name, nil
}

type enrollTOTPRequest struct {
	Name     *string `json:"name"`
	MFAToken *string `json:"mfa_token"`
}

// enrollTOTP is POST /v1/{realm}/mfa/totp: a new pending TOTP factor, with
// the secret (base32), its otpauth:// URI and the QR code, shown this once.
func (a *API) enrollTOTP(w http.ResponseWriter, r *http.Request, p params) error {
	var in enrollTOTPRequest
	if err := decode(r, &in, true); err != nil {
		return err
	}
	acct, err := a.enrolling(w, r, p.realm(), in.MFAToken)
	if err != nil {
		return err
	}
	name, err := factorName(in.Name)
	if err != nil {
		return err
	}
	e, err := a.MFA.EnrollTOTP(r.Context(), acct, name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		ID         string `json:"id"`
		Secret     string `json:"secret"`
		OTPAuthURI string `json:"otpauth_uri"`
		QRSVG      string `json:"qr_svg"`
		ExpiresAt  string `json:"expires_at"`
	}{e.Factor.ID, e.Secret, e.URI, e.QRSVG, e.Factor.ExpiresAt.Format(time.RFC3339)})
	return nil
}

type confirmTOTPRequest struct {
	ID       *string `json:"id"`
	Code     *string `json:"code"`
	MFAToken *string `json:"mfa_token"`
}

// errWrongFirstCode answers a wrong first code of a new factor.
var errWrongFirstCode = &apiError{Status: http.StatusBadRequest, Code: "invalid_code", Message: "The code is wrong. Type the code the app shows now.",
	Fields: map[string]string{"code": "wrong"}}

// confirmTOTP is POST /v1/{realm}/mfa/totp/confirm: a first code makes the
// pending factor active; the account's first factor answers with its
// recovery codes, shown this once. Under an enrollment mfa_token it ends
// the login that asked for it: a session and cookies, as a login answers.
func (a *API) confirmTOTP(w http.ResponseWriter, r *http.Request, p params) error {
	realm := p.realm()
	var in confirmTOTPRequest
	if err := decode(r, &in, false); err != nil {
		return err
	}
	c, err := a.signedInUnless(w, r, realm, in.MFAToken)
	if err != nil {
		return err
	}
	fields := map[string]string{}
	if in.ID == nil || !account.ValidID(*in.ID) {
		fields["id"] = "required: the id of the factor being enrolled"
	}
	if in.Code == nil || *in.Code == "" {
		fields["code"] = "required"
	}
	if len(fields) > 0 {
		return errInvalid("Give the factor's id and a code from the app.", fields)
	}
	if in.MFAToken != nil {
		done, err := a.Auth.ConfirmFirstTOTP(r.Context(), info(r).requester(), realm, *in.MFAToken, *in.ID, *in.Code, a.sessionToken(r, realm))
		if errors.Is(err, mfa.ErrInvalidCode) {
			return errWrongFirstCode
		}
		if err != nil {
			return err
		}
		a.signedIn(w, realm, done, new(factorView(done.Enrolled)))
		return nil
	}
	done, err := a.MFA.ConfirmTOTP(r.Context(), c.account, *in.ID, *in.Code, nil)
	if errors.Is(err, mfa.ErrInvalidCode) {
		return errWrongFirstCode
	}
	if err != nil {
		return err
	}
	a.event(r, audit.MFAEnrolled, realm, c.account.ID, "", map[string]string{"type": string(mfa.TOTP), "factor_id": done.Factor.ID})
	writeEnrolled(w, done)
	return nil
}

type renameFactorRequest struct {
	Name *string `json:"name"`
}

// renameFactor is PATCH /v1/{realm}/mfa/{id} {name}: one of my factors
// gets a name ("" takes it away). A name is no security matter: no recent
// authentication is asked. Someone else's id is 404.
func (a *API) renameFactor(w http.ResponseWriter, r *http.Request, p params) error {
	c, err := a.authenticate(w, r, p.realm())
	if err != nil {
		return err
	}
	var in renameFactorRequest
	if err := decode(r, &in, false); err != nil {
		return err
	}
	if in.Name == nil {
		return errInvalid("Give the factor's new name.", map[string]string{"name": "required"})
	}
	name, err := factorName(in.Name)
	if err != nil {
		return err
	}
	if !account.ValidID(p["id"]) {
		return errNotFound
	}
	f, err := a.MFA.RenameFactor(r.Context(), c.account, p["id"], name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]factorJSON{"factor": factorView(f)})
	return nil
}

// removeFactor is DELETE /v1/{realm}/mfa/{id}: one of my factors, on a
// session that proved the password within the last 5 minutes (403
// reauth_required); never the last one of an account that must have one
// (409 last_factor). Someone else's id is 404.
func (a *API) removeFactor(w http.ResponseWriter, r *http.Request, p params) error {
	realm := p.realm()
	c, err := a.authenticate(w, r, realm)
	if err != nil {
		return err
	}
	if !account.ValidID(p["id"]) {
		return errNotFound
	}
	f, err := a.MFA.RemoveFactor(r.Context(), c.account, c.session.AuthenticatedAt, p["id"])
	if err != nil {
		return err
	}
	a.event(r, audit.MFARemoved, realm, c.account.ID, "", map[string]string{"type": string(f.Type), "factor_id": f.ID})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// newRecoveryCodes is POST /v1/{realm}/mfa/recovery-codes: a new set
// replaces the old one, on a recently authenticated session.
func (a *API) newRecoveryCodes(w http.ResponseWriter, r *http.Request, p params) error {
	realm := p.realm()
	c, err := a.authenticate(w, r, realm)
	if err != nil {
		return err
	}
	if err := decode(r, &struct{}{}, true); err != nil {
		return err
	}
	codes, err := a.MFA.NewRecoveryCodes(r.Context(), c.account, c.session.AuthenticatedAt)
	if err != nil {
		return err
	}
	a.event(r, audit.MFAEnrolled, realm, c.account.ID, "", map[string]string{"type": string(mfa.MethodRecovery)})
	writeJSON(w, http.StatusOK, map[string][]string{"recovery_codes": codes})
	return nil
}

type reauthRequest struct {
	Password *string `json:"password" text:"verbatim"`
}

// reauth is POST /v1/{realm}/reauth: the signed-in person proves the
// password again; for 5 minutes the session may remove factors and make
// new recovery codes. A wrong password is 400, not 401, which would read
// as "logged out", and counts toward the login lock.
func (a *API) reauth(w http.ResponseWriter, r *http.Request, p params) error {
	realm := p.realm()
	c, err := a.authenticate(w, r, realm)
	if err != nil {
		return err
	}
	var in reauthRequest
	if err := decode(r, &in, false); err != nil {
		return err
	}
	if in.Password == nil || *in.Password == "" {
		return errInvalid("Give your password.", map[string]string{"password": "required"})
	}
	s, err := a.Auth.Reauthenticate(r.Context(), info(r).requester(), c.account, c.session, *in.Password)
	if errors.Is(err, account.ErrInvalidCredentials) {
		return &apiError{Status: http.StatusBadRequest, Code: "invalid_credentials", Message: "The password is wrong.",
			Fields: map[string]string{"password": "wrong"}}
	}
	if err != nil {
		return a.refused(r, realm, c.account.Email, err)
	}
	writeJSON(w, http.StatusOK, map[string]string{
		"authenticated_at":  s.AuthenticatedAt.Format(time.RFC3339),
		"reauth_expires_at": s.AuthenticatedAt.Add(mfa.ReauthWindow).Format(time.RFC3339),
	})
	return nil
}
