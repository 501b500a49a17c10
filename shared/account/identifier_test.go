package account

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalizeEmail(t *testing.T) {
	accepted := []struct{ in, want string }{
		{"juan@example.com", "juan@example.com"},
		{"Juan.DelaCruz@Example.COM", "juan.delacruz@example.com"},
		{"  juan@example.com\t", "juan@example.com"},
		{"juan+ekolek@mail.example.ph", "juan+ekolek@mail.example.ph"},
		{"a@b.co", "a@b.co"},
		{"jose\u0301@example.com", "jos\u00e9@example.com"}, // NFD in, NFC out
		{"JOSE\u0301@Example.com", "jos\u00e9@example.com"},
		{"juan@xn--mnchen-3ya.de", "juan@xn--mnchen-3ya.de"},
		{"juan@bücher.example", "juan@bücher.example"},
	}
	for _, tt := range accepted {
		got, err := NormalizeEmail(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}

	rejected := []struct{ name, in string }{
		{"empty", ""},
		{"no at", "no-at"},
		{"no dot in domain", "a@b"},
		{"no local part", "@example.com"},
		{"no domain", "juan@"},
		{"space inside", "x@y.z with space"},
		{"space in local part", "juan dela@example.com"},
		{"display name", "Juan <j@x.com>"},
		{"angle brackets only", "<j@x.com>"},
		{"quoted local part", `"juan"@example.com`},
		{"comment", "juan@example.com (Juan)"},
		{"two addresses", "a@x.com, b@x.com"},
		{"semicolon list", "a@x.com;b@x.com"},
		{"double dot", "juan..cruz@example.com"},
		{"leading dot", ".juan@example.com"},
		{"trailing dot in domain", "juan@example.com."},
		{"double at", "juan@@example.com"},
		{"too long", strings.Repeat("a", 64) + "@" + strings.Repeat("b", 186) + ".com"},
		{"IPv4 literal in brackets", "a@[127.0.0.1]"},
		{"IPv4 address as domain", "a@127.0.0.1"},
		{"IPv6 literal", "a@[IPv6:::1]"},
		{"hex IPv4 as domain", "a@0x7f.0x1"},
		{"shortened IPv4", "a@127.1"},
		{"numeric top-level label", "a@example.123"},
		{"zero-width space", "ju\u200ban@example.com"},
		{"bidi override", "juan@\u202eexample.com"},
		{"C1 control", "juan\u0085@example.com"},
	}
	for _, tt := range rejected {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizeEmail(tt.in)
			if !errors.Is(err, ErrInvalidEmail) {
				t.Errorf("NormalizeEmail(%q) = %q, %v; want ErrInvalidEmail", tt.in, got, err)
			}
			if got != "" {
				t.Errorf("NormalizeEmail(%q) returned %q with an error", tt.in, got)
			}
		})
	}
}

func TestNormalizeUsername(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"admin", "admin", true},
		{"Kapitan.Juan", "kapitan.juan", true},
		{"  ops_manager-2 ", "ops_manager-2", true},
		{"abc", "abc", true},
		{strings.Repeat("a", 32), strings.Repeat("a", 32), true},
		{"ab", "", false},
		{"  ab  ", "", false},
		{strings.Repeat("a", 33), "", false},
		{"", "", false},
		{"juan dela", "", false},
		{"juan@x.com", "", false},
		{"josé", "", false},
		{"juan!", "", false},
		{"ju/an", "", false},
	}
	for _, tt := range tests {
		got, err := NormalizeUsername(tt.in)
		if tt.ok {
			if err != nil || got != tt.want {
				t.Errorf("NormalizeUsername(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			continue
		}
		if !errors.Is(err, ErrInvalidUsername) || got != "" {
			t.Errorf("NormalizeUsername(%q) = %q, %v; want ErrInvalidUsername", tt.in, got, err)
		}
	}
}
