package password

import "strings"

// Policy limits: length in characters, and the lowest acceptable zxcvbn score.
const (
	MinLength = 12
	MaxLength = 128
	MinScore  = 3
)

// WeakError lists why a new password was refused. Reasons are stable codes a
// client can translate: too_short, too_long, too_guessable, contains_personal_info,
// common_password, sequence_or_repeat, keyboard_pattern, date.
type WeakError struct {
	Reasons []string
}

func (e *WeakError) Error() string { return "password: weak: " + strings.Join(e.Reasons, ", ") }

// Policy judges a new password given the account's own details (names,
// email, phone): *WeakError or nil. strength.Check is the policy; it lives in
// its own package because zxcvbn's dictionaries add about 2.5 MB to a
// function's binary and 14–16 ms to its start-up, and only the functions
// that set passwords need them.
type Policy func(pw string, userInputs []string) error
