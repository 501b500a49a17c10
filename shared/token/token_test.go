package token

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ekolek/identity/shared/clock"
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
	got, err := k.Parse(t.Context(), "admin:password_reset", tok, now)
	if err != nil || got.Subject != "a1" || got.ID != "rec1" || !got.ExpiresAt.Equal(c.ExpiresAt) {
		t.Fatalf("parse: %+v %v", got, err)
	}
	for _, aud := range []string{"admin", "resident:password_reset", ""} {
		if _, err := k.Parse(t.Context(), aud, tok, now); err != ErrInvalid {
			t.Errorf("audience %q accepted: %v", aud, err)
		}
	}
	if got, err := k.Parse(t.Context(), "admin:password_reset", tok, c.ExpiresAt); err != ErrExpired || got.ID != "rec1" {
		t.Fatalf("at exp: %+v %v", got, err)
	}
	rotated, _ := NewKeys([]byte("the-new-signing-key-0123456789abcdef"), old)
	if _, err := rotated.Parse(t.Context(), "admin:password_reset", tok, now); err != nil {
		t.Fatalf("token under the previous key: %v", err)
	}
	fresh, _ := NewKeys([]byte("the-new-signing-key-0123456789abcdef"))
	if _, err := fresh.Parse(t.Context(), "admin:password_reset", tok, now); err != ErrInvalid {
		t.Fatalf("token under an unknown key: %v", err)
	}
	if _, err := NewKeys([]byte("short")); err == nil {
		t.Fatal("short key accepted")
	}
	if KeyID(old) == KeyID([]byte("the-new-signing-key-0123456789abcdef")) || len(KeyID(old)) != 16 {
		t.Fatal("key ids")
	}
}

// keyRing is a signing-key secret as a running instance sees it: the
// current version and the previous one, and how often it was read.
type keyRing struct {
	mu      sync.Mutex
	keys    [][]byte // oldest first; the last is current
	reads   int
	failing bool
}

func (r *keyRing) rotate(key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.keys = append(r.keys, []byte(key))
}

func (r *keyRing) source(context.Context) ([]byte, [][]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reads++
	if r.failing {
		return nil, nil, errors.New("secrets manager is down")
	}
	n := len(r.keys)
	if n == 1 {
		return r.keys[0], nil, nil
	}
	return r.keys[n-1], [][]byte{r.keys[n-2]}, nil
}

func (r *keyRing) readCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reads
}

func TestRefreshingKeysFollowARotation(t *testing.T) {
	clk := clock.NewManual(time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC))
	ring := &keyRing{keys: [][]byte{[]byte("first-signing-key-0123456789abcdef")}}
	claims := func() Claims {
		now := clk.Now()
		return Claims{Audience: "resident", Subject: "a1", IssuedAt: now, ExpiresAt: now.Add(24 * time.Hour)}
	}
	start := func() (*Keys, error) {
		current, previous, err := ring.source(t.Context())
		if err != nil {
			return nil, err
		}
		return Refreshing(ring.source, clk, current, previous...)
	}
	old, err := start() // an instance started before the rotation
	if err != nil {
		t.Fatal(err)
	}
	beforeRotation, _ := old.Sign(claims())

	ring.rotate("second-signing-key-0123456789abcde")
	young, err := start() // an instance started after it
	if err != nil {
		t.Fatal(err)
	}
	if _, err := young.Parse(t.Context(), "resident", beforeRotation, clk.Now()); err != nil {
		t.Fatalf("a new instance refuses a token signed before the rotation: %v", err)
	}
	afterRotation, _ := young.Sign(claims())
	reads := ring.readCount()
	if _, err := old.Parse(t.Context(), "resident", afterRotation, clk.Now()); err != nil {
		t.Fatalf("an old instance refuses a token signed after the rotation: %v", err)
	}
	if ring.readCount() != reads+1 {
		t.Fatalf("the unknown key id made %d readings, want 1", ring.readCount()-reads)
	}
	if _, err := old.Parse(t.Context(), "resident", beforeRotation, clk.Now()); err != nil {
		t.Fatalf("the old instance, refreshed, refuses its own earlier token: %v", err)
	}

	// Forged key ids cost at most one reading a minute.
	forged := &Keys{}
	forgedSet, _ := newKeySet([]byte("someone-elses-key-0123456789abcdef"), nil, time.Time{})
	forged.set.Store(forgedSet)
	bogus, _ := forged.Sign(claims())
	reads = ring.readCount()
	for range 10 {
		if _, err := old.Parse(t.Context(), "resident", bogus, clk.Now()); err != ErrInvalid {
			t.Fatalf("a token under an unknown key: %v", err)
		}
	}
	if ring.readCount() != reads {
		t.Fatalf("forged key ids within a minute of the last reading made %d readings", ring.readCount()-reads)
	}

	// A second rotation retires the first key: once the instance reads the
	// keys again (here after MaxAge, in the background), tokens under it
	// are refused, and the instance signs with the newest key.
	ring.rotate("third-signing-key-0123456789abcdef")
	clk.Advance(MaxAge)
	old.Sign(claims()) // starts the background reading
	deadline := time.Now().Add(5 * time.Second)
	for old.set.Load().currentID != KeyID([]byte("third-signing-key-0123456789abcdef")) {
		if time.Now().After(deadline) {
			t.Fatal("the keys were not read again after MaxAge")
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := old.Parse(t.Context(), "resident", beforeRotation, clk.Now()); err != ErrInvalid {
		t.Fatalf("a token under the retired key: %v", err)
	}
	if _, err := old.Parse(t.Context(), "resident", afterRotation, clk.Now()); err != nil {
		t.Fatalf("a token under the previous key: %v", err)
	}

	// A source that fails leaves the keys in use.
	ring.mu.Lock()
	ring.failing = true
	ring.mu.Unlock()
	clk.Advance(UnknownKeyInterval)
	if _, err := old.Parse(t.Context(), "resident", bogus, clk.Now()); err != ErrInvalid {
		t.Fatalf("a token under an unknown key while the source fails: %v", err)
	}
	if _, err := old.Parse(t.Context(), "resident", afterRotation, clk.Now()); err != nil {
		t.Fatalf("keys lost when the source failed: %v", err)
	}
}
