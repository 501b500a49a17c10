package token

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"strings"
	"sync"
	"time"
)

// Parse's fast path. Every session check verifies a token, and golang-jwt's
// general parser spends most of that time decoding the header into a map
// and the claims through reflection. The tokens Sign writes have one exact
// header per key and claims in one plain shape, so the fast path
// recognises the header segment byte for byte (it names the key, and says
// HS256), checks the MAC with a pre-keyed HMAC in constant time, and reads
// the claims with a small decoder that accepts only that plain shape.
// Whatever is not exactly that (another header, escapes or spaces in the
// claims, a second audience, fractional times...) goes to golang-jwt, so
// the two answer alike on every input (FuzzVerifyMatchesJWT); what is
// checked after that (issuer, audience, subject, expiry) is Parse's, for
// both.

// ownVerdict is what the fast path made of a token.
type ownVerdict int

const (
	// ownNotMine: not in the form Sign writes; golang-jwt decides.
	ownNotMine ownVerdict = iota
	// ownValid: signature good, claims decoded.
	ownValid
	// ownInvalid: a header Sign writes, but the token is malformed or its
	// MAC is wrong: golang-jwt would refuse it too.
	ownInvalid
)

// verifyOwn is the fast path of verify.
func (set *keySet) verifyOwn(tok string) (verified, ownVerdict) {
	header, rest, ok := strings.Cut(tok, ".")
	mk := set.byHeader[header]
	if !ok || mk == nil || len(tok) > maxLen {
		return verified{}, ownNotMine
	}
	payload, sig, ok := strings.Cut(rest, ".")
	if !ok || strings.Contains(sig, ".") {
		return verified{}, ownInvalid
	}
	st := mk.pool.Get().(*macState)
	defer mk.pool.Put(st)
	claims, ok := st.verify(tok[:len(header)+1+len(payload)], payload, sig)
	if !ok {
		return verified{}, ownInvalid
	}
	c, ok := decodeOwn(claims)
	if !ok {
		return verified{}, ownNotMine
	}
	return c, ownValid
}

// macKey is one signing key's HMAC states, ready to use: crypto/hmac keeps
// the key's padded state after its first Reset, so a state from the pool
// costs no key schedule and no allocation.
type macKey struct{ pool sync.Pool }

func newMACKey(key []byte) *macKey {
	m := &macKey{}
	m.pool.New = func() any { return &macState{mac: hmac.New(sha256.New, key)} }
	return m
}

// macState is one HMAC with the buffers a verification needs (a token is
// at most maxLen bytes).
type macState struct {
	mac hash.Hash
	buf [maxLen]byte
	dec [maxLen]byte
	sum [sha256.Size]byte
}

// verify reports whether sig is the MAC of signed (header.payload),
// compared in constant time, and returns the decoded payload. Segments
// are decoded as golang-jwt decodes them (base64url without padding,
// not strict).
func (st *macState) verify(signed, payload, sig string) (claims string, ok bool) {
	n := copy(st.buf[:], signed)
	st.mac.Reset()
	st.mac.Write(st.buf[:n])
	sum := st.mac.Sum(st.sum[:0])
	n = copy(st.buf[:], sig)
	m, err := base64.RawURLEncoding.Decode(st.dec[:], st.buf[:n])
	if err != nil || !hmac.Equal(sum, st.dec[:m]) {
		return "", false
	}
	n = copy(st.buf[:], payload)
	m, err = base64.RawURLEncoding.Decode(st.dec[:], st.buf[:n])
	if err != nil {
		return "", false
	}
	return string(st.dec[:m]), true
}

// decodeOwn reads claims written the way Sign writes them: one JSON object
// without spaces, its keys among sid, iss, sub, aud, exp, iat and jti, each
// at most once; strings of printable ASCII without escapes; aud an array of
// one such string; exp and iat whole seconds, 0 or up to 15 digits without
// a leading zero (exact as float64, as golang-jwt reads them). ok is false
// for anything else. The strings it returns share js's memory.
func decodeOwn(js string) (c verified, ok bool) {
	if len(js) < 2 || js[0] != '{' || js[len(js)-1] != '}' {
		return verified{}, false
	}
	if len(js) == 2 {
		return c, true
	}
	var seen uint8
	i := 1
	for {
		key, next, ok := ownString(js, i)
		if !ok || next >= len(js) || js[next] != ':' {
			return verified{}, false
		}
		i = next + 1
		var bit uint8
		switch key {
		case "iss":
			bit = 1
			c.issuer, i, ok = ownString(js, i)
		case "sub":
			bit = 2
			c.subject, i, ok = ownString(js, i)
		case "sid":
			bit = 4
			c.sessionID, i, ok = ownString(js, i)
		case "jti":
			bit = 8
			c.id, i, ok = ownString(js, i)
		case "aud":
			bit = 16
			if i >= len(js) || js[i] != '[' {
				return verified{}, false
			}
			c.audience, i, ok = ownString(js, i+1)
			if !ok || i >= len(js) || js[i] != ']' {
				return verified{}, false
			}
			i++
			c.audiences = 1
		case "exp":
			bit = 32
			c.expiresAt, i, ok = ownSeconds(js, i)
			c.hasExpiry = true
		case "iat":
			bit = 64
			c.issuedAt, i, ok = ownSeconds(js, i)
		default:
			return verified{}, false
		}
		if !ok || seen&bit != 0 || i >= len(js) {
			return verified{}, false
		}
		seen |= bit
		switch js[i] {
		case ',':
			i++
		case '}':
			return c, i == len(js)-1
		default:
			return verified{}, false
		}
	}
}

// ownString reads the string starting at js[i] (its opening quote): only
// printable ASCII, no backslash. It returns the string and the index after
// its closing quote.
func ownString(js string, i int) (s string, next int, ok bool) {
	if i >= len(js) || js[i] != '"' {
		return "", 0, false
	}
	for j := i + 1; j < len(js); j++ {
		switch b := js[j]; {
		case b == '"':
			return js[i+1 : j], j + 1, true
		case b < 0x20 || b > 0x7e || b == '\\':
			return "", 0, false
		}
	}
	return "", 0, false
}

// ownSeconds reads a whole number of seconds at js[i] as a time, the way
// golang-jwt's NumericDate does for such numbers.
func ownSeconds(js string, i int) (t time.Time, next int, ok bool) {
	j := i
	var n int64
	for j < len(js) && js[j] >= '0' && js[j] <= '9' {
		n = n*10 + int64(js[j]-'0')
		j++
	}
	digits := j - i
	if digits == 0 || digits > 15 || digits > 1 && js[i] == '0' {
		return time.Time{}, 0, false
	}
	return time.Unix(n, 0), j, true
}
