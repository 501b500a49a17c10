package strength

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ekolek/identity/shared/password"
)

func TestCheck(t *testing.T) {
	juan := []string{"Juan", "Dela Cruz", "juan.delacruz@example.com", "+639171234567"}
	tests := []struct {
		name        string
		pw          string
		inputs      []string
		wantReasons []string // nil: accepted; otherwise every one must be reported
	}{
		{"11 characters", "Zq8!vR2#mK4", nil, []string{"too_short"}},
		{"empty", "", nil, []string{"too_short"}},
		{"11 multibyte characters", "ñañañañañañ", nil, []string{"too_short"}},
		{"12 strong characters", "x7#kLp9@qW2m", nil, nil},
		{"12 multibyte characters counted as characters", "ñandú bóveda", nil, nil},
		{"128 characters", strings.Repeat("tricycle mango umbrella 42 ", 5)[:128], nil, nil},
		{"129 characters", strings.Repeat("x7#kLp9@qW2m", 11)[:129], nil, []string{"too_long"}},
		{"invalid utf-8", "mango tricycle \xff\xfe umbrella", nil, []string{"too_guessable"}},
		{"common password", "password1234", nil, []string{"too_guessable", "common_password"}},
		{"sequence", "abcdefghijkl", nil, []string{"too_guessable", "sequence_or_repeat"}},
		{"repeat", "aaaaaaaaaaaa", nil, []string{"too_guessable", "sequence_or_repeat"}},
		{"keyboard", "qwertyuiop1234", nil, []string{"too_guessable"}},
		{"date", "01011990abcd", nil, []string{"too_guessable"}},
		{"email local part", "juan.delacruz2024", juan, []string{"too_guessable", "contains_personal_info"}},
		{"phone national digits", "9171234567juan!", juan, []string{"too_guessable", "contains_personal_info"}},
		{"phone with 0 prefix", "09171234567!ab", juan, []string{"too_guessable", "contains_personal_info"}},
		// Only the person's own names and number: refused even though the
		// surname is written without its space.
		{"names run together and phone", "juandelacruz09171234567", juan, []string{"too_guessable", "contains_personal_info"}},
		{"username", "kapitanjuan2024", []string{"kapitanjuan", "kap@example.com", "Juan Santos"}, []string{"too_guessable", "contains_personal_info"}},
		{"passphrase", "mango tricycle umbrella 42", juan, nil},
		{"lowercase passphrase, no digits or symbols", "correct horse battery staple", juan, nil},
		{"no composition rules", "greenmangotricycle", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.pw, tt.inputs)
			if tt.wantReasons == nil {
				if err != nil {
					t.Fatalf("Check(%q) = %v, want accepted", tt.pw, err)
				}
				return
			}
			var weak *password.WeakError
			if !errors.As(err, &weak) {
				t.Fatalf("Check(%q) = %v, want *password.WeakError", tt.pw, err)
			}
			for _, r := range tt.wantReasons {
				if !slices.Contains(weak.Reasons, r) {
					t.Errorf("Check(%q) reasons %v, missing %s", tt.pw, weak.Reasons, r)
				}
			}
			if len(weak.Reasons) == 0 || weak.Reasons[0] != tt.wantReasons[0] {
				t.Errorf("Check(%q) reasons %v, want %s first", tt.pw, weak.Reasons, tt.wantReasons[0])
			}
			if !strings.Contains(weak.Error(), tt.wantReasons[0]) {
				t.Errorf("Error() = %q, does not mention %s", weak.Error(), tt.wantReasons[0])
			}
		})
	}
}

func TestCheckPersonalInfoOnlyWithInputs(t *testing.T) {
	// The same password is fine for someone else: the refusal comes from the
	// account's own details, not from the password alone.
	const pw = "juan.delacruz2024"
	juan := []string{"Juan", "Dela Cruz", "juan.delacruz@example.com", "+639171234567"}
	if err := Check(pw, []string{"Maria", "Santos", "maria.santos@example.com", "+639181112222"}); err != nil {
		t.Fatalf("Check for another person = %v, want accepted", err)
	}
	if err := Check(pw, juan); err == nil {
		t.Fatal("Check for Juan = nil, want refused")
	}
}

func BenchmarkPolicyCheck(b *testing.B) {
	inputs := []string{"Juan", "Dela Cruz", "juan.delacruz@example.com", "+639171234567"}
	for b.Loop() {
		_ = Check("mango tricycle umbrella 42", inputs)
	}
}

func TestPersonalWords(t *testing.T) {
	got := personalWords([]string{" Juan ", "Dela Cruz", "Juan.DelaCruz@Example.com", "+639171234567", "", "juan"})
	want := []string{
		"juan",
		"dela cruz", "delacruz", "dela", "cruz",
		"juan.delacruz@example.com", "juan.delacruz", "juandelacruz",
		"+639171234567", "09171234567", "9171234567",
	}
	if !slices.Equal(got, want) {
		t.Errorf("personalWords =\n%q\nwant\n%q", got, want)
	}
}
