// Package strength is the password policy: 12–128 characters and a zxcvbn
// score of at least 3, judged with the account's own details as known words.
// It is apart from package password so that only the functions that set
// passwords link zxcvbn (see password.Policy).
//
// zxcvbn's cost is not bounded by the policy's 128 characters: its
// dictionary matchers try every substring against every list, once more for
// each l33t substitution table the password's characters allow (up to 121),
// so 128 adversarial characters took seconds. Check therefore hands zxcvbn
// at most JudgedBytes of the password (see judged), which bounds the work
// whatever the input.
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
	res := zxcvbn.PasswordStrength(judged(pw), personalWords(userInputs))
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

// JudgedBytes is how much of a password zxcvbn judges. The worst input of
// this size (every l33t substitute at once, BenchmarkPolicyCheckAdversarial)
// takes 12–15 ms on one busy x86-64 core; 40 bytes took twice that, 64 bytes
// five times. Nearly every password
// people choose fits whole (a four-word passphrase is 25–30 bytes) and is
// judged exactly as before. A longer one must already be strong in its
// first 32 bytes: judging a prefix refuses at least what judging the whole
// would, except where the cut splits a match, and the split that matters, a
// repetition, is undone (see judged).
const JudgedBytes = 32

// judged is the part of pw that zxcvbn judges: pw itself when it fits in
// JudgedBytes, else its longest prefix of whole characters that fits, moved
// back to the end of a whole copy when the cut falls inside a repeated run.
// Cut inside "fpqGvj" repeated 8 times, the leftover "fpqG" would count as
// fresh random characters and make a weak password look strong; ending on a
// whole "fpqGvj" keeps it the repetition it is.
func judged(pw string) string {
	if len(pw) <= JudgedBytes {
		return pw
	}
	rs := []rune(pw)
	cut, size := 0, 0
	for size+utf8.RuneLen(rs[cut]) <= JudgedBytes {
		size += utf8.RuneLen(rs[cut])
		cut++
	}
	// rs[cut] is the first character left out.
	end := cut
	for p := 1; p < cut; p++ {
		// A repetition of period p runs through the cut when the characters
		// on both sides of it equal those p before (one alone is chance).
		if rs[cut] != rs[cut-p] || rs[cut-1] != rs[cut-1-p] {
			continue
		}
		start := cut - 1 - p
		for start > 0 && rs[start-1] == rs[start-1+p] {
			start--
		}
		// The run is rs[start:], in copies of p characters.
		end = min(end, start+(cut-start)/p*p)
	}
	return string(rs[:end])
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
