package mfa

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/ekolek/identity/shared/account"
)

const someSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

func TestRecoveryCodes(t *testing.T) {
	codes, err := newRecoveryCodes()
	if err != nil {
		t.Fatal(err)
	}
	format := regexp.MustCompile(`^[` + recoveryAlphabet + `]{5}-[` + recoveryAlphabet + `]{5}$`)
	seen := map[string]bool{}
	for _, c := range codes {
		if !format.MatchString(c) {
			t.Errorf("code %q not in the format xxxxx-xxxxx of the alphabet", c)
		}
		if seen[c] {
			t.Errorf("code %q twice", c)
		}
		seen[c] = true
		if strings.ContainsAny(c, "01ilo") {
			t.Errorf("code %q has a lookalike", c)
		}
	}
	if len(codes) != RecoveryCount {
		t.Errorf("%d codes, want %d", len(codes), RecoveryCount)
	}
	c := codes[0]
	for _, typed := range []string{c, strings.ToUpper(c), strings.ReplaceAll(c, "-", ""), " " + c[:3] + " " + c[3:] + " "} {
		if normalizeRecovery(typed) != strings.ReplaceAll(c, "-", "") {
			t.Errorf("normalizeRecovery(%q) = %q", typed, normalizeRecovery(typed))
		}
	}
	for _, bad := range []string{"", "abcde-fghj", "abcde-fghjkm", "0bcde-fghjk", "abcde_fghjk"} {
		if normalizeRecovery(bad) != "" {
			t.Errorf("normalizeRecovery(%q) = %q, want refused", bad, normalizeRecovery(bad))
		}
	}
}

func TestRecoveryHash(t *testing.T) {
	k, _ := NewKeys(bytes.Repeat([]byte{1}, 32))
	id := k.recoveryKey()
	h1, ok := k.recoveryHash(id, account.Admin, "a1", "abcdefghjk")
	if !ok || !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(h1) {
		t.Fatalf("hash = %q, %v", h1, ok)
	}
	for _, other := range [][3]string{
		{"resident", "a1", "abcdefghjk"}, {"admin", "a2", "abcdefghjk"}, {"admin", "a1", "abcdefghjm"},
	} {
		if h, _ := k.recoveryHash(id, account.Realm(other[0]), other[1], other[2]); h == h1 {
			t.Errorf("%v hashes like admin/a1's code", other)
		}
	}
	other, _ := NewKeys(bytes.Repeat([]byte{2}, 32))
	if _, ok := other.recoveryHash(id, account.Admin, "a1", "abcdefghjk"); ok {
		t.Error("a key set without the hash's key claims to know it")
	}
	rotated, _ := NewKeys(bytes.Repeat([]byte{2}, 32), bytes.Repeat([]byte{1}, 32))
	if h, ok := rotated.recoveryHash(id, account.Admin, "a1", "abcdefghjk"); !ok || h != h1 {
		t.Error("the previous key no longer checks its hashes during a rotation")
	}
}

func TestSealedSecret(t *testing.T) {
	oldKey, newKey := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	k, _ := NewKeys(oldKey)
	f := Factor{Realm: account.Admin, AccountID: "a1", ID: "f1"}
	sealed, err := k.sealSecret(f, someSecret)
	if err != nil {
		t.Fatal(err)
	}
	f.Secret = sealed
	if strings.Contains(sealed, someSecret) {
		t.Fatal("the secret is readable in its sealed form")
	}
	if s, stale, err := k.openSecret(f); err != nil || stale || s != someSecret {
		t.Errorf("openSecret = %q, %v, %v", s, stale, err)
	}
	again, _ := k.sealSecret(f, someSecret)
	if again == sealed {
		t.Error("two seals of one secret are equal: the nonce is not fresh")
	}
	moved := f
	moved.ID = "f2"
	if _, _, err := k.openSecret(moved); err == nil {
		t.Error("a sealed secret opened as another factor's")
	}
	rotated, _ := NewKeys(newKey, oldKey)
	if s, stale, err := rotated.openSecret(f); err != nil || !stale || s != someSecret {
		t.Errorf("during a rotation: %q, stale %v, %v; want the secret, stale", s, stale, err)
	}
	gone, _ := NewKeys(newKey)
	if _, _, err := gone.openSecret(f); err == nil {
		t.Error("opened without its key")
	}
	tampered := f
	tampered.Secret = sealed[:len(sealed)-2] + "AA"
	if _, _, err := k.openSecret(tampered); err == nil {
		t.Error("a tampered secret opened")
	}
}
