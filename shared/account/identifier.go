package account

import (
	"errors"
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// Kind is the kind of a login identifier.
type Kind string

// Identifier kinds.
const (
	KindEmail    Kind = "email"
	KindPhone    Kind = "phone"
	KindUsername Kind = "username"
)

// Identifier is a normalised login identifier; at most one account of a realm holds each.
type Identifier struct {
	Kind  Kind
	Value string
}

// DefaultRegion is where phone numbers without a country code are assumed to be.
const DefaultRegion = "PH"

// Errors from identifier normalisation.
var (
	ErrInvalidEmail    = errors.New("not a valid email address")
	ErrInvalidPhone    = errors.New("not a valid Philippine mobile number")
	ErrInvalidUsername = errors.New("username must be 3-32 characters: letters, digits, '.', '_' or '-'")
)

// NormalizeEmail trims and lower-cases an email address and checks its shape.
func NormalizeEmail(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) > 254 || strings.ContainsAny(s, " <>\"(),;:\\") {
		return "", ErrInvalidEmail
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s {
		return "", ErrInvalidEmail
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || !strings.Contains(s[at+1:], ".") {
		return "", ErrInvalidEmail
	}
	return s, nil
}

// NormalizePhone parses a Philippine mobile number in any common form
// (0917…, +63917…, 63917…) and returns it in E.164.
func NormalizePhone(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 32 {
		return "", ErrInvalidPhone
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789+-() .", r) {
			return "", ErrInvalidPhone
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
	num, err := phonenumbers.Parse(s, DefaultRegion)
	// Philippine numbers only: the office serves residents here, and SMS to
	// other countries is where SMS-pumping fraud makes its money.
	if err != nil || !phonenumbers.IsValidNumber(num) || phonenumbers.GetRegionCodeForNumber(num) != DefaultRegion {
		return "", ErrInvalidPhone
	}
	switch phonenumbers.GetNumberType(num) {
	case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE:
	default:
		return "", ErrInvalidPhone
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// NormalizeUsername lower-cases a username and checks its characters.
func NormalizeUsername(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if n := utf8.RuneCountInString(s); n < 3 || n > 32 {
		return "", ErrInvalidUsername
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return "", ErrInvalidUsername
		}
	}
	return s, nil
}

// ParseLoginIdentifier reads what a person typed into the login box of realm r:
// an email, a mobile number (residents) or a username (admins). ok is false
// when it cannot be any of them; the caller still spends a hash so the answer
// takes as long as for a real account.
func ParseLoginIdentifier(r Realm, s string) (Identifier, bool) {
	if strings.Contains(s, "@") {
		v, err := NormalizeEmail(s)
		return Identifier{Kind: KindEmail, Value: v}, err == nil
	}
	if r == Resident {
		v, err := NormalizePhone(s)
		return Identifier{Kind: KindPhone, Value: v}, err == nil
	}
	v, err := NormalizeUsername(s)
	return Identifier{Kind: KindUsername, Value: v}, err == nil
}

// CanonicalIdentifier is what a login box entry means in realm, for
// counting failures: the normalised identifier when it is one, else the
// trimmed, lower-cased text. "Juan@Example.com" and "juan@example.com",
// "0917 123 4567" and "+639171234567" count as one.
func CanonicalIdentifier(r Realm, s string) string {
	if id, ok := ParseLoginIdentifier(r, s); ok {
		return string(id.Kind) + ":" + id.Value
	}
	return "raw:" + strings.ToLower(strings.TrimSpace(s))
}
