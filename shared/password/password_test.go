package password

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// cheap are parameters that keep tests fast while still being a real argon2id hash.
var cheap = Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashIsPHCString(t *testing.T) {
	h := NewHasher(DefaultParams)
	got, err := h.Hash("mango tricycle umbrella 42")
	if err != nil {
		t.Fatal(err)
	}
	// 16-byte salt and 32-byte key in unpadded standard base64.
	re := regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !re.MatchString(got) {
		t.Errorf("Hash = %q, want a PHC argon2id string with m=19456,t=2,p=1", got)
	}
	if strings.Contains(got, "mango") {
		t.Errorf("hash contains the password: %q", got)
	}
}

func TestHashIsSalted(t *testing.T) {
	h := NewHasher(cheap)
	a, err := h.Hash("same password twice")
	if err != nil {
		t.Fatal(err)
	}
	b, err := h.Hash("same password twice")
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatalf("two hashes of the same password are equal: %q", a)
	}
	// Salt and key both differ, not just one of them.
	pa, pb := strings.Split(a, "$"), strings.Split(b, "$")
	if pa[4] == pb[4] || pa[5] == pb[5] {
		t.Errorf("salts or keys repeat:\n%s\n%s", a, b)
	}
	for _, enc := range []string{a, b} {
		if ok, _, err := h.Verify("same password twice", enc); !ok || err != nil {
			t.Errorf("Verify(%q) = %v, %v; want true", enc, ok, err)
		}
	}
}

func TestVerify(t *testing.T) {
	h := NewHasher(DefaultParams)
	const pw = "mango tricycle umbrella 42"
	enc, err := h.Hash(pw)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		try    string
		wantOK bool
	}{
		{"right password", pw, true},
		{"wrong password", "mango tricycle umbrella 43", false},
		{"different case", strings.ToUpper(pw), false},
		{"prefix", pw[:len(pw)-1], false},
		{"trailing space", pw + " ", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(tt.try, enc)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if ok != tt.wantOK {
				t.Errorf("ok = %v, want %v", ok, tt.wantOK)
			}
			if rehash {
				t.Errorf("rehash = true for a hash made with the current parameters")
			}
		})
	}
}

func TestVerifyRehashWhenParamsChange(t *testing.T) {
	const pw = "old cheap hash from 2019"
	old, err := NewHasher(cheap).Hash(pw)
	if err != nil {
		t.Fatal(err)
	}
	cur := NewHasher(DefaultParams)

	ok, rehash, err := cur.Verify(pw, old)
	if err != nil || !ok || !rehash {
		t.Errorf("Verify(right, old params) = ok %v rehash %v err %v; want ok, rehash", ok, rehash, err)
	}
	// A wrong password never asks for a rehash: that would let anyone rewrite the hash.
	ok, rehash, err = cur.Verify("wrong guess entirely", old)
	if err != nil || ok || rehash {
		t.Errorf("Verify(wrong, old params) = ok %v rehash %v err %v; want neither", ok, rehash, err)
	}

	// Each parameter on its own triggers a rehash.
	for _, p := range []Params{
		{Memory: 2048, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 1024, Time: 1, Threads: 2, SaltLen: 16, KeyLen: 32},
		{Memory: 1024, Time: 1, Threads: 1, SaltLen: 24, KeyLen: 32},
		{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 48},
	} {
		ok, rehash, err := NewHasher(p).Verify(pw, old)
		if err != nil || !ok || !rehash {
			t.Errorf("hasher %+v: Verify = ok %v rehash %v err %v; want ok, rehash", p, ok, rehash, err)
		}
	}
}

func TestVerifyMalformed(t *testing.T) {
	h := NewHasher(cheap)
	good, err := h.Hash("a perfectly fine password")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$") // "", argon2id, v=19, m=..., salt, key
	with := func(i int, v string) string {
		p := slices.Clone(parts)
		p[i] = v
		return strings.Join(p, "$")
	}
	tests := []struct {
		name string
		enc  string
	}{
		{"empty", ""},
		{"plain text", "a perfectly fine password"},
		{"argon2i", with(1, "argon2i")},
		{"bcrypt", "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"},
		{"version 16", with(2, "v=16")},
		{"no version", with(2, "")},
		{"bad base64 salt", with(4, "!!!notbase64!!!")},
		{"bad base64 key", with(5, "####")},
		{"short salt", with(4, "AAAA")},
		{"short key", with(5, "AAAAAAAA")},
		{"absurd memory", with(3, "m=99999999,t=1,p=1")},
		{"zero memory", with(3, "m=0,t=1,p=1")},
		{"negative memory", with(3, "m=-1,t=1,p=1")},
		{"absurd time", with(3, "m=1024,t=1000000,p=1")},
		{"zero time", with(3, "m=1024,t=0,p=1")},
		{"zero threads", with(3, "m=1024,t=1,p=0")},
		{"threads overflow", with(3, "m=1024,t=1,p=300")},
		{"params missing", with(3, "m=1024")},
		{"too few fields", strings.Join(parts[:5], "$")},
		{"too many fields", good + "$extra"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify("a perfectly fine password", tt.enc)
			if !errors.Is(err, ErrMalformedHash) {
				t.Errorf("Verify(%q) err = %v, want ErrMalformedHash", tt.enc, err)
			}
			if ok || rehash {
				t.Errorf("Verify(%q) = ok %v rehash %v, want false false", tt.enc, ok, rehash)
			}
		})
	}
}

func TestBurn(t *testing.T) {
	for _, p := range []Params{cheap, DefaultParams} {
		h := NewHasher(p)
		h.Burn("")
		h.Burn("anything at all")
		// The decoy is a well-formed hash made with the hasher's parameters:
		// verifying against it does the full work and matches nothing.
		ok, rehash, err := h.Verify("anything at all", h.decoy)
		if err != nil || ok || rehash {
			t.Errorf("decoy for %+v: Verify = %v %v %v; want a well-formed non-match", p, ok, rehash, err)
		}
	}
}

func BenchmarkHash(b *testing.B) {
	h := NewHasher(DefaultParams)
	for b.Loop() {
		if _, err := h.Hash("mango tricycle umbrella 42"); err != nil {
			b.Fatal(err)
		}
	}
}
