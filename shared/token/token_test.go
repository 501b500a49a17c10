package token

import (
	"testing"
	"time"
)

func TestSignParseRotate(t *testing.T) {
	now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	old := []byte("the-old-signing-key-0123456789abcdef")
	k, _ := NewKeys(old)
	c := Claims{Audience: "admin:password_reset", Subject: "a1", ID: "rec1", IssuedAt: now, ExpiresAt: now.Add(15 * time.Minute)}
	tok, err := k.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := k.Parse("admin:password_reset", tok, now)
	if err != nil || got.Subject != "a1" || got.ID != "rec1" || !got.ExpiresAt.Equal(c.ExpiresAt) {
		t.Fatalf("parse: %+v %v", got, err)
	}
	for _, aud := range []string{"admin", "resident:password_reset", ""} {
		if _, err := k.Parse(aud, tok, now); err != ErrInvalid {
			t.Errorf("audience %q accepted: %v", aud, err)
		}
	}
	if got, err := k.Parse("admin:password_reset", tok, c.ExpiresAt); err != ErrExpired || got.ID != "rec1" {
		t.Fatalf("at exp: %+v %v", got, err)
	}
	rotated, _ := NewKeys([]byte("the-new-signing-key-0123456789abcdef"), old)
	if _, err := rotated.Parse("admin:password_reset", tok, now); err != nil {
		t.Fatalf("token under the previous key: %v", err)
	}
	fresh, _ := NewKeys([]byte("the-new-signing-key-0123456789abcdef"))
	if _, err := fresh.Parse("admin:password_reset", tok, now); err != ErrInvalid {
		t.Fatalf("token under an unknown key: %v", err)
	}
	if _, err := NewKeys([]byte("short")); err == nil {
		t.Fatal("short key accepted")
	}
	if KeyID(old) == KeyID([]byte("the-new-signing-key-0123456789abcdef")) || len(KeyID(old)) != 16 {
		t.Fatal("key ids")
	}
}
