package account

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ekolek/identity/shared/password"
	"github.com/ekolek/identity/shared/text"
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

// Key is the identifier as one string, "kind:value": what the login lock
// counts failures under, whether the identifier was typed at a login or is
// one of the account's own at a password change.
func (id Identifier) Key() string { return string(id.Kind) + ":" + id.Value }

// kindTyped marks login box text that reads as no identifier at all; its
// failures are counted under the text itself (CanonicalIdentifier).
const kindTyped Kind = "raw"

// Errors from identifier normalisation.
var (
	ErrInvalidEmail    = errors.New("not a valid email address")
	ErrInvalidPhone    = errors.New("not a valid Philippine mobile number")
	ErrInvalidUsername = errors.New("username must be 3-32 characters: letters, digits, '.', '_' or '-'")
)

// NormalizeEmail trims and lower-cases an email address, puts it in NFC
// (so that "josé" typed precomposed or with a combining accent is one
// address) and checks its shape. The domain must be a name: an IP literal
// ("a@[127.0.0.1]", "a@127.0.0.1", "a@0x7f.1") is refused, as is anything
// whose top-level label is not letters (or an IDN A-label, "xn--…"); no
// top-level domain has a digit in it.
func NormalizeEmail(s string) (string, error) {
	s, err := text.Normalize(strings.ToLower(strings.TrimSpace(s)))
	if err != nil || len(s) > 254 || strings.ContainsAny(s, " <>\"(),;:\\[]") {
		return "", ErrInvalidEmail
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s {
		return "", ErrInvalidEmail
	}
	at := strings.LastIndexByte(s, '@')
	dot := strings.LastIndexByte(s, '.')
	if at < 1 || dot < at || !topLevel(s[dot+1:]) {
		return "", ErrInvalidEmail
	}
	return s, nil
}

// topLevel reports whether label can be a top-level domain: letters, or an
// A-label of an internationalised one.
func topLevel(label string) bool {
	if rest, ok := strings.CutPrefix(label, "xn--"); ok {
		return rest != "" && !strings.ContainsFunc(rest, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-')
		})
	}
	return label != "" && !strings.ContainsFunc(label, func(r rune) bool { return !unicode.IsLetter(r) })
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

// Checks read phone numbers and judge new passwords. Both link large
// libraries (libphonenumber, zxcvbn), so a Lambda function links only the
// checks its routes declare (httpapi.Route.Needs), and a handler's services
// get only those (app.PartTable). Using a check that is not there means a
// route uses one it does not declare: it panics (the API answers 500),
// which fails the tests that serve the route.
type Checks struct {
	// Phone normalises a Philippine mobile number to E.164, or returns
	// ErrInvalidPhone (phone.Normalize).
	Phone func(string) (string, error)
	// Password judges a new password (strength.Check).
	Password password.Policy
}

// NormalizePhone reads a phone number as typed.
func (c Checks) NormalizePhone(s string) (string, error) {
	if c.Phone == nil {
		panic(notLinked("phone"))
	}
	return c.Phone(s)
}

// NewPassword judges a new password given the account's own details.
func (c Checks) NewPassword(pw string, userInputs []string) error {
	if c.Password == nil {
		panic(notLinked("password policy"))
	}
	return c.Password(pw, userInputs)
}

func notLinked(part string) string {
	return fmt.Sprintf("account: no %s check here: the route uses it but does not declare it (httpapi.Route.Needs)", part)
}

// LoginIdentifier reads what a person typed into the login box of realm r:
// an email, a mobile number (residents) or a username (admins). ok is false
// when it cannot be any of them; the caller still spends a hash so the answer
// takes as long as for a real account.
func (c Checks) LoginIdentifier(r Realm, s string) (Identifier, bool) {
	if strings.Contains(s, "@") {
		v, err := NormalizeEmail(s)
		return Identifier{Kind: KindEmail, Value: v}, err == nil
	}
	if r == Resident {
		v, err := c.NormalizePhone(s)
		return Identifier{Kind: KindPhone, Value: v}, err == nil
	}
	v, err := NormalizeUsername(s)
	return Identifier{Kind: KindUsername, Value: v}, err == nil
}

// CanonicalIdentifier is what a login box entry means in realm, for
// counting failures: the Key of the normalised identifier when it is one,
// else of the trimmed, lower-cased text. "Juan@Example.com" and
// "juan@example.com", "0917 123 4567" and "+639171234567" count as one.
func (c Checks) CanonicalIdentifier(r Realm, s string) string {
	id, ok := c.LoginIdentifier(r, s)
	if !ok {
		id = Identifier{Kind: kindTyped, Value: strings.ToLower(strings.TrimSpace(s))}
	}
	return id.Key()
}
