package phone

import (
	"errors"
	"strings"
	"testing"

	"github.com/ekolek/identity/shared/account"
)

func TestNormalize(t *testing.T) {
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
		got, err := Normalize(in)
		if err != nil || got != want {
			t.Errorf("Normalize(%q) = %q, %v; want %q", in, got, err, want)
		}
	}

	// Other valid mobile numbers keep their own digits.
	others := map[string]string{
		"09991234567": "+639991234567",
	}
	for in, w := range others {
		if got, err := Normalize(in); err != nil || got != w {
			t.Errorf("Normalize(%q) = %q, %v; want %q", in, got, err, w)
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
			got, err := Normalize(tt.in)
			if !errors.Is(err, account.ErrInvalidPhone) {
				t.Errorf("Normalize(%q) = %q, %v; want account.ErrInvalidPhone", tt.in, got, err)
			}
			if got != "" {
				t.Errorf("Normalize(%q) returned %q with an error", tt.in, got)
			}
		})
	}
}

func TestLoginIdentifier(t *testing.T) {
	checks := account.Checks{Phone: Normalize}
	tests := []struct {
		name  string
		realm account.Realm
		in    string
		want  account.Identifier
		ok    bool
	}{
		{"resident email", account.Resident, " Juan@Example.com ", account.Identifier{Kind: account.KindEmail, Value: "juan@example.com"}, true},
		{"resident local phone", account.Resident, "0917 123 4567", account.Identifier{Kind: account.KindPhone, Value: "+639171234567"}, true},
		{"resident e164 phone", account.Resident, "+639171234567", account.Identifier{Kind: account.KindPhone, Value: "+639171234567"}, true},
		{"resident username is not a login", account.Resident, "kapitan.juan", account.Identifier{Kind: account.KindPhone}, false},
		{"resident landline", account.Resident, "(02) 8123 4567", account.Identifier{Kind: account.KindPhone}, false},
		{"resident bad email", account.Resident, "juan@localhost", account.Identifier{Kind: account.KindEmail}, false},
		{"resident empty", account.Resident, "", account.Identifier{Kind: account.KindPhone}, false},
		{"admin email", account.Admin, "Admin@Example.com", account.Identifier{Kind: account.KindEmail, Value: "admin@example.com"}, true},
		{"admin username", account.Admin, "Kapitan.Juan", account.Identifier{Kind: account.KindUsername, Value: "kapitan.juan"}, true},
		// An admin logs in with a username, never a phone: digits are a username.
		{"admin digits are a username", account.Admin, "09171234567", account.Identifier{Kind: account.KindUsername, Value: "09171234567"}, true},
		{"admin phone with plus", account.Admin, "+639171234567", account.Identifier{Kind: account.KindUsername}, false},
		{"admin bad username", account.Admin, "a b", account.Identifier{Kind: account.KindUsername}, false},
		{"admin bad email", account.Admin, "Juan <j@x.com>", account.Identifier{Kind: account.KindEmail}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := checks.LoginIdentifier(tt.realm, tt.in)
			if ok != tt.ok {
				t.Fatalf("LoginIdentifier(%s, %q) ok = %v, want %v (got %+v)", tt.realm, tt.in, ok, tt.ok, got)
			}
			if got != tt.want {
				t.Errorf("LoginIdentifier(%s, %q) = %+v, want %+v", tt.realm, tt.in, got, tt.want)
			}
		})
	}
}
