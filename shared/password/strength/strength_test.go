package strength

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

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

// adversarial are inputs built to make zxcvbn slow, each at the policy's
// 128 characters: every l33t substitute at once (up to 121 substitution
// tables, each a full dictionary pass), many bytes per character (the
// dictionary passes go over every substring), repetitions (matched
// recursively), dates, keyboard walks and dictionary fragments. Before
// JudgedBytes the worst, l33t plus CJK, took 5.6 s on a shared core.
func adversarial() map[string]string {
	const l33t = "4@8({[<3691!|70$5+%2"
	return map[string]string{
		"l33t then CJK":          l33t + strings.Repeat("中", 128-len(l33t)),
		"l33t then letters":      l33t + repeatTo("qxvbnmzkjhgfdswrtyuiopalec", 128-len(l33t)),
		"l33t then emoji":        l33t + strings.Repeat("😀", 128-len(l33t)),
		"l33t and emoji":         repeatTo("😀"+l33t, 128),
		"l33t and emoji between": repeatTo("4😀@😀8😀(😀{😀[😀<😀3😀6😀9😀1😀!😀|😀7😀0😀$😀5😀+😀%😀2😀", 128),
		"l33t only":              repeatTo(l33t, 128),
		"l33t words":             repeatTo("p@$$w0rd1!|7+<({[%2", 128),
		"l33t ñ":                 repeatTo("ñ"+l33t, 128),
		"one character":          strings.Repeat("a", 128),
		"one emoji":              strings.Repeat("😀", 128),
		"repeated word":          repeatTo("Password1!", 128),
		"nested repetitions":     repeatTo(repeatTo(repeatTo("ab", 6)+"c", 21)+"d", 128),
		"digits":                 repeatTo("8305917264019283746510", 128),
		"dates":                  repeatTo("19901231", 128),
		"dates with slashes":     repeatTo("1/2/1990", 128),
		"keyboard walk":          repeatTo("qazwsxedcrfvtgbyhnujmik,ol.p;/", 128),
		"dictionary fragments":   repeatTo("theandofthatwhichisloveyou", 128),
		"mixed":                  repeatTo("p@ssw0rd1990qwerty!abc", 128),
		"personal info":          repeatTo("juandelacruz09171234567", 128),
	}
}

// repeatTo repeats s to n characters.
func repeatTo(s string, n int) string {
	return string([]rune(strings.Repeat(s, n/utf8.RuneCountInString(s)+1))[:n])
}

// The work zxcvbn does is bounded by what it is given: never more than
// JudgedBytes, always a prefix of whole characters, the whole password
// when it fits.
func TestJudgedIsABoundedPrefix(t *testing.T) {
	inputs := []string{"", "x7#kLp9@qW2m", strings.Repeat("x", JudgedBytes), strings.Repeat("x", JudgedBytes+1),
		strings.Repeat("é", 40), "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa😀😀"}
	for _, pw := range adversarial() {
		inputs = append(inputs, pw)
	}
	for _, pw := range inputs {
		checkJudged(t, pw)
	}
}

func FuzzJudged(f *testing.F) {
	for _, pw := range adversarial() {
		f.Add(pw)
	}
	f.Add(strings.Repeat("fpqGvj", 8))
	f.Fuzz(func(t *testing.T, pw string) {
		if !utf8.ValidString(pw) {
			return // Check refuses it before judging
		}
		checkJudged(t, pw)
	})
}

func checkJudged(t *testing.T, pw string) {
	t.Helper()
	j := judged(pw)
	switch {
	case len(j) > JudgedBytes:
		t.Errorf("judged(%q) is %d bytes, more than %d", pw, len(j), JudgedBytes)
	case !strings.HasPrefix(pw, j) || !utf8.ValidString(j):
		t.Errorf("judged(%q) = %q, not a prefix of whole characters", pw, j)
	case len(pw) <= JudgedBytes && j != pw:
		t.Errorf("judged(%q) = %q, want all of it", pw, j)
	case len(pw) > JudgedBytes && utf8.RuneCountInString(j) < utf8.RuneCountInString(pw[:JudgedBytes])/2:
		// A repetition's cut moves back by less than one copy, and a copy
		// that counts is at most half of what fits.
		t.Errorf("judged(%q) = %q, less than half of what fits", pw, j)
	}
}

// Judging a prefix must not let a weak long password through. Cut at 32
// bytes without moving back to a whole copy, every repetition here looked
// strong ("juandelacruzjuandelacruz" + "juandela" ends on a fresh-looking
// stub). Judged whole, all were refused but the repetition of Juan's name
// and number to 128 characters, which zxcvbn rated strong.
func TestLongWeakPasswordsStayWeak(t *testing.T) {
	juan := []string{"Juan", "Dela Cruz", "juan.delacruz@example.com", "+639171234567"}
	for _, pw := range []string{
		strings.Repeat("juandelacruz", 4),
		repeatTo("sunshine ", 128),
		repeatTo("sunshine ", 38),
		strings.Repeat("Qwerty!", 9),
		strings.Repeat("iloveyouprincess1", 4),
		strings.Repeat("01/02/1990 ", 8),
		strings.Repeat("password1234", 10),
		repeatTo("qwertyuiop", 128),
		repeatTo("abcdefghijklmnopqrstuvwxyz", 128),
		repeatTo("9171234567", 40),
		adversarial()["personal info"],
		adversarial()["one character"],
		adversarial()["repeated word"],
		adversarial()["dates"],
	} {
		if err := Check(pw, juan); err == nil {
			t.Errorf("Check(%q) accepted a password that is weak judged whole", pw)
		}
	}
}

// Any input the policy's length allows is judged in well under 50 ms (about
// 10 ms for the worst). The best of five runs is what the input costs; the
// rest is the machine's other work. The race detector slows this code about
// tenfold.
func TestAdversarialPasswordsAreJudgedQuickly(t *testing.T) {
	limit := 50 * time.Millisecond
	if raceEnabled {
		limit *= 10
	}
	juan := []string{"Juan", "Dela Cruz", "juan.delacruz@example.com", "+639171234567"}
	for name, pw := range adversarial() {
		best := time.Hour
		for range 5 {
			start := time.Now()
			_ = Check(pw, juan)
			best = min(best, time.Since(start))
		}
		if best > limit {
			t.Errorf("%s: judged in %v at best, want under %v", name, best, limit)
		}
	}
}

func BenchmarkPolicyCheckAdversarial(b *testing.B) {
	juan := []string{"Juan", "Dela Cruz", "juan.delacruz@example.com", "+639171234567"}
	inputs := adversarial()
	for _, name := range []string{"l33t then letters", "l33t then CJK", "l33t only", "repeated word", "mixed"} {
		b.Run(strings.ReplaceAll(name, " ", "_"), func(b *testing.B) {
			for b.Loop() {
				_ = Check(inputs[name], juan)
			}
		})
	}
}
