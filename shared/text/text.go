// Package text is what every text field of a request goes through: one
// Unicode form (NFC), so that look-alike spellings of one name or email are
// one value, and no invisible characters (format characters, category Cf,
// such as zero-width spaces and bidi overrides, and C1 controls), which
// make one value look like another.
package text

import (
	"errors"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// ErrHidden refuses text with format (Cf) or C1 control characters.
var ErrHidden = errors.New("must not contain invisible formatting or control characters")

// Normalize returns s in NFC, or ErrHidden when s holds a format (Cf) or
// C1 control character.
func Normalize(s string) (string, error) {
	for _, r := range s {
		if Hidden(r) {
			return "", ErrHidden
		}
	}
	return norm.NFC.String(s), nil
}

// Hidden reports whether r is a format character (Cf: zero-width space and
// joiners, bidi marks and overrides, the byte order mark, tags) or a C1
// control (U+0080–U+009F).
func Hidden(r rune) bool {
	return r >= 0x80 && r <= 0x9f || unicode.Is(unicode.Cf, r)
}

// Compact is a code as people type it, without the spaces and dashes they
// put inside it ("123 456", "k7m2p-x9tq4").
func Compact(code string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, code)
}
