package text

import (
	"errors"
	"testing"
)

func TestNormalize(t *testing.T) {
	for _, tt := range []struct {
		in, want string
		err      error
	}{
		{"Santo Niño", "Santo Niño", nil},
		{"Santo Nin\u0303o", "Santo Niño", nil}, // NFD: n + combining tilde
		{"jose\u0301@example.com", "josé@example.com", nil},
		{"plain ascii", "plain ascii", nil},
		{"tab\tand newline\n", "tab\tand newline\n", nil}, // C0 is each field's own rule
		{"", "", nil},
		{"Juan\u200b", "", ErrHidden},        // zero-width space
		{"Juan\u200dCruz", "", ErrHidden},    // zero-width joiner
		{"\u202eznauJ", "", ErrHidden},       // right-to-left override
		{"Juan\u2066x\u2069", "", ErrHidden}, // isolates
		{"\ufeffJuan", "", ErrHidden},        // byte order mark
		{"Juan\u00ad", "", ErrHidden},        // soft hyphen
		{"Juan\U000e0041", "", ErrHidden},    // tag character
		{"Juan\u0085", "", ErrHidden},        // C1: next line
		{"Juan\u009b", "", ErrHidden},        // C1: control sequence introducer
	} {
		got, err := Normalize(tt.in)
		if !errors.Is(err, tt.err) || got != tt.want {
			t.Errorf("Normalize(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}
