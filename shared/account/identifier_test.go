package account

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalizePhone(t *testing.T) {
	const want = "+639171234567"
	accepted := []string{
		"09171234567",
		"+639171234567",
		"639171234567",
		"0917 123 4567",
		"0917-123-4567",
		"(0917) 123-4567",
		"+63 917 123 4567",
		"63 917 123 4567",
		"  09171234567  ",
		"9171234567",
	}
	for _, in := range accepted {
		got, err := NormalizePhone(in)
		if err != nil || got != want {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", in, got, err, want)
		}
	}

	// Other valid mobile numbers keep their own digits.
	others := map[string]string{
		"09991234567": "+639991234567",
	}
	for in, w := range others {
		if got, err := NormalizePhone(in); err != nil || got != w {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", in, got, err, w)
		}
	}

	rejected := []struct{ name, in string }{
		{"empty", ""},
		{"blank", "   "},
		{"manila landline", "(02) 8123 4567"},
		{"manila landline international", "+63 2 8123 4567"},
		{"one digit short", "0917123456"},
		{"one digit long", "091712345678"},
		{"63 prefix one digit long", "6391712345678"},
		{"short", "12345"},
		{"letters", "0917abc4567"},
		{"vanity letters", "0917-CALL-NOW"},
		{"words", "my number"},
		{"email", "juan@example.com"},
		{"40 digits", strings.Repeat("9", 40)},
		{"40 digits after 0917", "0917" + strings.Repeat("1", 36)},
		{"plus only", "+"},
		{"foreign mobile (UK)", "+44 7911 123456"},
		{"foreign mobile (Nigeria)", "+234 803 123 4567"},
		{"zero", "0"},
	}
	for _, tt := range rejected {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizePhone(tt.in)
			if !errors.Is(err, ErrInvalidPhone) {
				t.Errorf("NormalizePhone(%q) = %q, %v; want ErrInvalidPhone", tt.in, got, err)
			}
			if got != "" {
				t.Errorf("NormalizePhone(%q) returned %q with an error", tt.in, got)
			}
		})
	}
}

func TestNormalizeEmail(t *testing.T) {
	accepted := []struct{ in, want string }{
		{"juan@example.com", "juan@example.com"},
		{"Juan.DelaCruz@Example.COM", "juan.delacruz@example.com"},
		{"  juan@example.com\t", "juan@example.com"},
		{"juan+ekolek@mail.example.ph", "juan+ekolek@mail.example.ph"},
		{"a@b.co", "a@b.co"},
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

func TestParseLoginIdentifier(t *testing.T) {
	tests := []struct {
		name  string
		realm Realm
		in    string
		want  Identifier
		ok    bool
	}{
		{"resident email", Resident, " Juan@Example.com ", Identifier{KindEmail, "juan@example.com"}, true},
		{"resident local phone", Resident, "0917 123 4567", Identifier{KindPhone, "+639171234567"}, true},
		{"resident e164 phone", Resident, "+639171234567", Identifier{KindPhone, "+639171234567"}, true},
		{"resident username is not a login", Resident, "kapitan.juan", Identifier{Kind: KindPhone}, false},
		{"resident landline", Resident, "(02) 8123 4567", Identifier{Kind: KindPhone}, false},
		{"resident bad email", Resident, "juan@localhost", Identifier{Kind: KindEmail}, false},
		{"resident empty", Resident, "", Identifier{Kind: KindPhone}, false},
		{"admin email", Admin, "Admin@Example.com", Identifier{KindEmail, "admin@example.com"}, true},
		{"admin username", Admin, "Kapitan.Juan", Identifier{KindUsername, "kapitan.juan"}, true},
		// An admin logs in with a username, never a phone: digits are a username.
		{"admin digits are a username", Admin, "09171234567", Identifier{KindUsername, "09171234567"}, true},
		{"admin phone with plus", Admin, "+639171234567", Identifier{Kind: KindUsername}, false},
		{"admin bad username", Admin, "a b", Identifier{Kind: KindUsername}, false},
		{"admin bad email", Admin, "Juan <j@x.com>", Identifier{Kind: KindEmail}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseLoginIdentifier(tt.realm, tt.in)
			if ok != tt.ok {
				t.Fatalf("ParseLoginIdentifier(%s, %q) ok = %v, want %v (got %+v)", tt.realm, tt.in, ok, tt.ok, got)
			}
			if got != tt.want {
				t.Errorf("ParseLoginIdentifier(%s, %q) = %+v, want %+v", tt.realm, tt.in, got, tt.want)
			}
		})
	}
}
