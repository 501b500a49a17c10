package embedded

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/session"
	"github.com/ekolek/identity/shared/testfill"
)

// valueN is the n-th field's text.
func valueN(n int) string { return fmt.Sprintf("value-%d", n) }

// asJSON is how the store kept items before codec.go: two values that
// marshal alike are alike for every reader of the store.
func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCodecKeepsEveryField: a session and an account with every field set
// come back from the binary form as they went in, and so do the zero
// values and empty (not nil) slices. A field added to session.Session or
// account.Account that codec.go does not write fails here.
func TestCodecKeepsEveryField(t *testing.T) {
	var s session.Session
	var a account.Account
	testfill.Struct(t, &s, valueN)
	testfill.Struct(t, &a, valueN)
	empty := account.Account{Barangays: []string{}, History: []account.StatusChange{}}

	for _, c := range []struct {
		name string
		in   any
		rt   func() (any, error)
	}{
		{"session", s, func() (any, error) { return roundTrip(encodeSession, decodeSession, s) }},
		{"zero session", session.Session{}, func() (any, error) { return roundTrip(encodeSession, decodeSession, session.Session{}) }},
		{"account", a, func() (any, error) { return roundTrip(encodeAccount, decodeAccount, a) }},
		{"zero account", account.Account{}, func() (any, error) { return roundTrip(encodeAccount, decodeAccount, account.Account{}) }},
		{"empty slices", empty, func() (any, error) { return roundTrip(encodeAccount, decodeAccount, empty) }},
	} {
		got, err := c.rt()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if want, got := asJSON(t, c.in), asJSON(t, got); got != want {
			t.Errorf("%s: came back as\n%s\nwant\n%s", c.name, got, want)
		}
	}
}

func roundTrip[T any](enc func(T) ([]byte, error), dec func([]byte) (T, error), v T) (T, error) {
	b, err := enc(v)
	if err != nil {
		var zero T
		return zero, err
	}
	return dec(b)
}

// TestCodecReadsJSONItems: items an earlier version wrote as JSON are
// still read.
func TestCodecReadsJSONItems(t *testing.T) {
	var s session.Session
	var a account.Account
	testfill.Struct(t, &s, valueN)
	testfill.Struct(t, &a, valueN)
	gotS, err := decodeSession([]byte(asJSON(t, s)))
	if err != nil || asJSON(t, gotS) != asJSON(t, s) {
		t.Fatalf("session from JSON: %+v %v", gotS, err)
	}
	gotA, err := decodeAccount([]byte(asJSON(t, a)))
	if err != nil || asJSON(t, gotA) != asJSON(t, a) {
		t.Fatalf("account from JSON: %+v %v", gotA, err)
	}
}

// TestCodecRefusesCorruptItems: a cut, padded or unknown item is an error,
// never a half-read account (or a panic).
func TestCodecRefusesCorruptItems(t *testing.T) {
	var a account.Account
	testfill.Struct(t, &a, valueN)
	b, err := encodeAccount(a)
	if err != nil {
		t.Fatal(err)
	}
	for i := range len(b) {
		if _, err := decodeAccount(b[:i]); err == nil {
			t.Fatalf("an item cut to %d of %d bytes was read", i, len(b))
		}
	}
	if _, err := decodeAccount(append(b, 0)); err == nil {
		t.Fatal("an item with a byte too many was read")
	}
	if _, err := decodeAccount(append([]byte{2}, b[1:]...)); err == nil {
		t.Fatal("an item of an unknown version was read")
	}
	if _, err := encodeAccount(account.Account{CreatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", 1<<30))}); err == nil {
		t.Fatal("a time the binary form cannot hold was written")
	}
}

// FuzzDecodeAccount: whatever the bytes, decoding returns or fails; it
// never panics.
func FuzzDecodeAccount(f *testing.F) {
	var a account.Account
	a.Barangays = []string{"Landayan"}
	a.History = []account.StatusChange{{At: time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC), To: account.StatusApproved}}
	b, _ := encodeAccount(a)
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = decodeAccount(data)
		_, _ = decodeSession(data)
	})
}
