package httpapi_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"testing"
)

func encodeB64URL(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func decodeB64URL(t *testing.T, s string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func kidOf(t *testing.T, header string) string {
	var h struct {
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal([]byte(decodeB64URL(t, header)), &h); err != nil {
		t.Fatal(err)
	}
	return h.Kid
}

// signWith makes a well-formed HS256 token with someone else's key.
func signWith(t *testing.T, key []byte, payload, kid string) string {
	t.Helper()
	head := encodeB64URL([]byte(`{"alg":"HS256","kid":"` + kid + `","typ":"JWT"}`))
	body := encodeB64URL([]byte(payload))
	m := hmac.New(sha256.New, key)
	m.Write([]byte(head + "." + body))
	return head + "." + body + "." + encodeB64URL(m.Sum(nil))
}

func flip(s string) string {
	b := []byte(s)
	if b[0] == 'A' {
		b[0] = 'B'
	} else {
		b[0] = 'A'
	}
	return string(b)
}
