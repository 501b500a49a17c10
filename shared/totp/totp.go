// Package totp is TOTP for authenticator apps (RFC 6238, with
// github.com/pquerna/otp): new secrets with their otpauth:// URI and QR
// code, and the judging of codes. It is an optional part (app.Parts):
// only the functions whose routes enroll or check TOTP codes link it and
// its two libraries; the stores and package mfa do not.
package totp

import (
	"crypto/subtle"
	"fmt"
	"time"

	"github.com/pquerna/otp"
	otptotp "github.com/pquerna/otp/totp"

	"github.com/ekolek/identity/shared/mfa"
	"github.com/ekolek/identity/shared/text"
)

// The parameters every authenticator app reads by default: SHA-1, 6
// digits, 30-second steps, a 160-bit secret.
const (
	Period     = 30
	Digits     = 6
	secretSize = 20
	// Skew is how many steps either side of now a code may belong to: one,
	// for a phone clock a little off and a code typed as it changes.
	Skew = 1
)

var opts = otptotp.ValidateOpts{Period: Period, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// App is the part: it implements mfa.TOTPApp.
type App struct{}

var _ mfa.TOTPApp = App{}

// step is the time step t falls in.
func step(t time.Time) int64 { return t.Unix() / Period }

// NewKey implements mfa.TOTPApp: a new random secret for accountName under
// issuer, its URI, and the URI as a QR code.
func (App) NewKey(issuer, accountName string) (mfa.TOTPKey, error) {
	k, err := otptotp.Generate(otptotp.GenerateOpts{
		Issuer: issuer, AccountName: accountName,
		Period: Period, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1, SecretSize: secretSize,
	})
	if err != nil {
		return mfa.TOTPKey{}, fmt.Errorf("totp: new key: %w", err)
	}
	svg, err := QRSVG(k.URL())
	if err != nil {
		return mfa.TOTPKey{}, err
	}
	return mfa.TOTPKey{Secret: k.Secret(), URI: k.URL(), QRSVG: svg}, nil
}

// Match implements mfa.TOTPApp: the time step within Skew of now whose code
// is code and which is above after (the factor's last used step), or
// false. Every candidate is compared, in constant time, whether or not an
// earlier one matched.
func (App) Match(secret, code string, now time.Time, after int64) (int64, bool) {
	code = normalize(code)
	if len(code) != Digits {
		return 0, false
	}
	found, ok := int64(0), false
	cur := step(now)
	for s := cur - Skew; s <= cur+Skew; s++ {
		want, err := otptotp.GenerateCodeCustom(secret, time.Unix(s*Period, 0), opts)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && s > after && !ok {
			found, ok = s, true
		}
	}
	return found, ok
}

// Code is the code of secret at t, as an authenticator app shows it
// (tests and the browser suite type it).
func Code(secret string, t time.Time) (string, error) {
	return otptotp.GenerateCodeCustom(secret, t, opts)
}

// normalize reads a typed code (text.Compact); anything but ASCII digits
// left is no code.
func normalize(code string) string {
	code = text.Compact(code)
	for _, r := range code {
		if r < '0' || r > '9' {
			return ""
		}
	}
	return code
}
