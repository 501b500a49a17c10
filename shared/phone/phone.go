// Package phone reads Philippine mobile numbers as people type them.
//
// It is the one package that links libphonenumber, whose metadata adds about
// 4.2 MB to a function's binary and 6–8 ms to its start-up, so only
// the functions that read phone numbers (login, register, register-verify,
// the password reset request and verification) carry it; the others get
// account.Checks without a Phone (app.PartTable).
package phone

import (
	"strings"

	"github.com/nyaruka/phonenumbers"

	"github.com/ekolek/identity/shared/account"
)

// Region is where numbers without a country code are assumed to be.
const Region = "PH"

// Normalize parses a Philippine mobile number in any common form
// (0917…, +63917…, 63917…) and returns it in E.164; anything else is
// account.ErrInvalidPhone.
func Normalize(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 32 {
		return "", account.ErrInvalidPhone
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789+-() .", r) {
			return "", account.ErrInvalidPhone
		}
	}
	// "63917…" without the plus is common on forms; read it as international.
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
	if !strings.HasPrefix(s, "+") && strings.HasPrefix(digits, "63") && len(digits) == 12 {
		s = "+" + digits
	}
	num, err := phonenumbers.Parse(s, Region)
	// Philippine numbers only: the office serves residents here, and SMS to
	// other countries is where SMS-pumping fraud makes its money.
	if err != nil || !phonenumbers.IsValidNumber(num) || phonenumbers.GetRegionCodeForNumber(num) != Region {
		return "", account.ErrInvalidPhone
	}
	switch phonenumbers.GetNumberType(num) {
	case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE:
	default:
		return "", account.ErrInvalidPhone
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}
