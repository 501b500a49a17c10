package logging

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

func TestMaskEmail(t *testing.T) {
	tests := []struct{ in, want string }{
		{"juan@example.com", "ju***@example.com"},
		{"juan.delacruz@example.com", "ju***@example.com"},
		{"ab@example.com", "a***@example.com"},
		{"a@example.com", "***@example.com"},
		{"@example.com", "***@example.com"},
		{"ñañaña@example.ph", "ña***@example.ph"},
		{"no-at-sign", "no***"},
	}
	for _, tt := range tests {
		if got := MaskEmail(tt.in); got != tt.want {
			t.Errorf("MaskEmail(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMaskPhone(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+639171234567", "*********567"},
		{"09171234567", "********567"},
		{"0917 123 4567", "********567"},
		{"1234", "*234"},
		{"123", "***"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := MaskPhone(tt.in); got != tt.want {
			t.Errorf("MaskPhone(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMaskIdentifier(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"email", "juan@example.com", "ju***@example.com"},
		{"email with spaces around", "  juan@example.com ", "ju***@example.com"},
		{"e164 phone", "+639171234567", "*********567"},
		{"local phone", "09171234567", "********567"},
		{"formatted phone", "(0917) 123-4567", "********567"},
		{"username", "kapitan.juan", "ka***"},
		{"three-letter username", "bob", "bo***"},
		{"two characters", "ab", "a***"},
		{"one character", "x", "***"},
		{"multibyte", "ñandú", "ña***"},
		{"empty", "", ""},
		{"blank", "   ", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MaskIdentifier(tt.in); got != tt.want {
				t.Errorf("MaskIdentifier(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestMaskNeverReveals checks the property the masks exist for: a masked
// value never holds a whole local part, username, or the leading digits of
// a number.
func TestMaskNeverReveals(t *testing.T) {
	emails := []string{"a@x.ph", "ab@x.ph", "abc@x.ph", "juan@example.com", "juan.delacruz@example.com", "jd@gov.ph"}
	for _, e := range emails {
		local := e[:strings.IndexByte(e, '@')]
		for _, got := range []string{MaskEmail(e), MaskIdentifier(e)} {
			if strings.Contains(got, local+"@") || strings.HasPrefix(got, local) {
				t.Errorf("mask of %q = %q reveals the whole local part %q", e, got, local)
			}
			if !strings.Contains(got, "***") {
				t.Errorf("mask of %q = %q has no mask", e, got)
			}
		}
	}
	phones := []string{"+639171234567", "09171234567", "639171234567", "0917 123 4567"}
	for _, p := range phones {
		for _, got := range []string{MaskPhone(p), MaskIdentifier(p)} {
			for _, leak := range []string{"639171234", "09171234", "917123", "9171234567"} {
				if strings.Contains(got, leak) {
					t.Errorf("mask of %q = %q contains %q", p, got, leak)
				}
			}
			if !strings.HasSuffix(got, "567") {
				t.Errorf("mask of %q = %q, want the last three digits kept", p, got)
			}
		}
	}
	for _, u := range []string{"x", "ab", "bob", "superadmin"} {
		if got := MaskIdentifier(u); strings.Contains(got, u) {
			t.Errorf("MaskIdentifier(%q) = %q reveals it", u, got)
		}
	}
}

func TestNewWritesJSONAtLevel(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf, slog.LevelInfo)
	log.Debug("hidden")
	log.Info("login refused", "identifier", MaskIdentifier("juan@example.com"))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("got %d lines, want 1 (debug filtered out):\n%s", len(lines), buf.String())
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, lines[0])
	}
	if rec["msg"] != "login refused" || rec["level"] != "INFO" || rec["identifier"] != "ju***@example.com" {
		t.Errorf("record = %v", rec)
	}
}
