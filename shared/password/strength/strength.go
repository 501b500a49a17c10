// Package strength is the password policy: 12–128 characters and a zxcvbn
// score of at least 3, judged with the account's own details as known words.
// It is apart from package password so that only the functions that set
// passwords link zxcvbn (see password.Policy).
package strength

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn"

	"github.com/ekolek/identity/shared/password"
)

// Check judges a new password against the policy: 12–128 characters and a
// zxcvbn score of at least 3 given the account's own details (names, email,
// phone) as known words. No composition rules. It is a password.Policy:
// *password.WeakError or nil.
func Check(pw string, userInputs []string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case !utf8.ValidString(pw):
		return &password.WeakError{Reasons: []string{"too_guessable"}}
	case n < password.MinLength:
		return &password.WeakError{Reasons: []string{"too_short"}}
	case n > password.MaxLength:
		return &password.WeakError{Reasons: []string{"too_long"}}
	}
	res := zxcvbn.PasswordStrength(pw, personalWords(userInputs))
	if res.Score >= password.MinScore {
		return nil
	}
	reasons := []string{"too_guessable"}
	seen := map[string]bool{}
	for _, m := range res.Sequence {
		var r string
		switch m.Pattern {
		case "dictionary":
			if m.DictionaryName == "user_inputs" {
				r = "contains_personal_info"
			} else {
				r = "common_password"
			}
		case "sequence", "repeat":
			r = "sequence_or_repeat"
		case "spatial":
			r = "keyboard_pattern"
		case "date":
			r = "date"
		}
		if r != "" && !seen[r] {
			seen[r] = true
			reasons = append(reasons, r)
		}
	}
	return &password.WeakError{Reasons: reasons}
}

// personalWords turns the account's details into the words zxcvbn should
// treat as known to an attacker.
func personalWords(userInputs []string) []string {
	words := make([]string, 0, len(userInputs)*4)
	seen := map[string]bool{}
	add := func(w string) {
		if w != "" && !seen[w] {
			seen[w] = true
			words = append(words, w)
		}
	}
	for _, in := range userInputs {
		in = strings.ToLower(strings.TrimSpace(in))
		if in == "" {
			continue
		}
		add(in)
		// The local part of an email and the national digits of a phone are
		// what people actually reuse.
		base := in
		if at := strings.IndexByte(in, '@'); at > 0 {
			base = in[:at]
			add(base)
		}
		if strings.HasPrefix(in, "+63") {
			add("0" + in[3:])
			add(in[3:])
		}
		// Names of several words ("Dela Cruz") and dotted local parts
		// ("juan.delacruz") get typed run together or one word at a time;
		// zxcvbn only matches an input verbatim.
		parts := strings.FieldsFunc(base, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
		if len(parts) > 1 {
			add(strings.Join(parts, ""))
			for _, p := range parts {
				if utf8.RuneCountInString(p) >= 3 {
					add(p)
				}
			}
		}
	}
	return words
}
