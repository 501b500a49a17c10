package mfa

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"strings"

	"github.com/ekolek/identity/shared/text"
)

// Recovery codes: RecoveryCount of them, each RecoveryLen characters from
// recoveryAlphabet shown as two groups of five ("k7m2p-x9tq4"). The
// alphabet leaves out what is misread or mistyped (0/o, 1/l/i), so a code
// read off paper is typed right; 31 symbols to the power 10 is about 2^49.5
// per code. They are stored as keyed hashes (HMAC-SHA256), not with a slow
// password hash: a code is random and long, not chosen by a person, so
// there is no dictionary to try; without the key a stolen table gives
// nothing to try offline at all, and online every try costs one of an
// mfa_token's 5 and counts toward the identifier's lock.
const (
	RecoveryCount    = 10
	RecoveryLen      = 10
	recoveryAlphabet = "23456789abcdefghjkmnpqrstuvwxyz"
)

// newRecoveryCodes makes a new set of codes, as shown to the person.
func newRecoveryCodes() ([]string, error) {
	codes := make([]string, RecoveryCount)
	max := big.NewInt(int64(len(recoveryAlphabet)))
	for i := range codes {
		var b strings.Builder
		for j := range RecoveryLen {
			if j == RecoveryLen/2 {
				b.WriteByte('-')
			}
			n, err := rand.Int(rand.Reader, max)
			if err != nil {
				return nil, fmt.Errorf("mfa: random: %w", err)
			}
			b.WriteByte(recoveryAlphabet[n.Int64()])
		}
		codes[i] = b.String()
	}
	return codes, nil
}

// normalizeRecovery reads a typed recovery code: case, spaces and dashes
// do not matter. It returns "" for anything that cannot be a code.
func normalizeRecovery(code string) string {
	code = strings.ToLower(text.Compact(code))
	if len(code) != RecoveryLen {
		return ""
	}
	for i := range len(code) {
		if !strings.ContainsRune(recoveryAlphabet, rune(code[i])) {
			return ""
		}
	}
	return code
}
