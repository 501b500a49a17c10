package token

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

var (
	verifyKey = []byte("verify-test-signing-key-0123456789ab")
	otherKey  = []byte("someone-elses-signing-key-0123456789")
)

// signRaw is a token with exactly this header and these claims, signed
// with key: what a key holder could write, canonical or not.
func signRaw(key []byte, header, claims string) string {
	enc := base64.RawURLEncoding
	signed := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(claims))
	m := hmac.New(sha256.New, key)
	m.Write([]byte(signed))
	return signed + "." + enc.EncodeToString(m.Sum(nil))
}

// sameAnswer fails unless the fast path (verify) and golang-jwt
// (parseWith) answer tok alike: both refuse it, or both accept it with the
// same claims.
func sameAnswer(t *testing.T, set *keySet, tok string) (verified, error) {
	t.Helper()
	got, gotUnknown, gotErr := set.verify(tok)
	want, wantUnknown, wantErr := set.parseWith(tok)
	if (gotErr == nil) != (wantErr == nil) || gotUnknown != wantUnknown {
		t.Fatalf("token %q: fast path err=%v unknown=%v, golang-jwt err=%v unknown=%v", tok, gotErr, gotUnknown, wantErr, wantUnknown)
	}
	if gotErr == nil && !sameClaims(got, want) {
		t.Fatalf("token %q: fast path %+v, golang-jwt %+v", tok, got, want)
	}
	return got, gotErr
}

func sameClaims(a, b verified) bool {
	return a.issuer == b.issuer && a.subject == b.subject && a.sessionID == b.sessionID && a.id == b.id &&
		a.audience == b.audience && a.audiences == b.audiences && a.hasExpiry == b.hasExpiry &&
		a.expiresAt.Equal(b.expiresAt) && a.issuedAt.Equal(b.issuedAt)
}

func testSet(t testing.TB) *keySet {
	set, err := newKeySet(verifyKey, [][]byte{otherKey}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// TestSignedTokensTakeTheFastPath: what Sign writes is what the fast path
// reads, for session and one-use tokens alike, with at most one allocation
// (the decoded claims). If golang-jwt ever writes its header or claims
// differently, this fails (the tokens would still verify, slowly).
func TestSignedTokensTakeTheFastPath(t *testing.T) {
	now := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	k, _ := NewKeys(verifyKey, otherKey)
	set := k.set.Load()
	for _, c := range []Claims{
		{Audience: "resident", Subject: "abcdefghijklmnopqrstuvwxyz", SessionID: strings.Repeat("s", 43), IssuedAt: now, ExpiresAt: now.Add(24 * time.Hour)},
		{Audience: "admin:password_reset", Subject: "a1", ID: "rec1", IssuedAt: now, ExpiresAt: now.Add(15 * time.Minute)},
	} {
		tok, err := k.Sign(c)
		if err != nil {
			t.Fatal(err)
		}
		v, verdict := set.verifyOwn(tok)
		if verdict != ownValid {
			t.Fatalf("%+v: Sign's token is not on the fast path (verdict %d): %s", c, verdict, tok)
		}
		want, _, err := set.parseWith(tok)
		if err != nil || !sameClaims(v, want) {
			t.Fatalf("%+v: fast path %+v, golang-jwt %+v %v", c, v, want, err)
		}
		got, err := k.Parse(t.Context(), c.Audience, tok, now)
		if err != nil || got.Subject != c.Subject || got.SessionID != c.SessionID || got.ID != c.ID ||
			!got.IssuedAt.Equal(c.IssuedAt) || !got.ExpiresAt.Equal(c.ExpiresAt) {
			t.Fatalf("parse: %+v %v, signed %+v", got, err, c)
		}
		if n := testing.AllocsPerRun(100, func() { _, _ = k.Parse(t.Context(), c.Audience, tok, now) }); n > 1 {
			t.Fatalf("Parse allocates %.0f times, want at most 1", n)
		}
	}
}

// TestVerifyRefuses: tokens the platform must refuse, each answered alike
// by the fast path and golang-jwt.
func TestVerifyRefuses(t *testing.T) {
	now := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	k, _ := NewKeys(verifyKey, otherKey)
	set := k.set.Load()
	kid := KeyID(verifyKey)
	header := `{"alg":"HS256","kid":"` + kid + `","typ":"JWT"}`
	good := `{"sid":"s1","iss":"ekolek","sub":"a1","aud":["resident"],"exp":1796630400,"iat":1796544000}`
	valid := signRaw(verifyKey, header, good)
	parts := strings.Split(valid, ".")
	enc := base64.RawURLEncoding.EncodeToString
	hs512 := func() string {
		// The same key under HS512: a valid MAC, the wrong algorithm.
		signed := enc([]byte(`{"alg":"HS512","kid":"`+kid+`","typ":"JWT"}`)) + "." + parts[1]
		m := hmac.New(sha256.New, verifyKey)
		m.Write([]byte(signed))
		return signed + "." + enc(m.Sum(nil))
	}
	for _, c := range []struct {
		name, tok, audience string
		want                error
	}{
		{"the well-formed token", valid, "resident", nil},
		{"another audience", valid, "admin", ErrInvalid},
		{"alg none, no signature", enc([]byte(`{"alg":"none","kid":"`+kid+`"}`)) + "." + parts[1] + ".", "resident", ErrInvalid},
		{"alg none, the HS256 signature", enc([]byte(`{"alg":"none","kid":"`+kid+`"}`)) + "." + parts[1] + "." + parts[2], "resident", ErrInvalid},
		{"alg HS512 with the key", hs512(), "resident", ErrInvalid},
		{"alg missing", signRaw(verifyKey, `{"kid":"`+kid+`","typ":"JWT"}`, good), "resident", ErrInvalid},
		{"kid missing", signRaw(verifyKey, `{"alg":"HS256","typ":"JWT"}`, good), "resident", ErrInvalid},
		{"kid of no key", signRaw(verifyKey, `{"alg":"HS256","kid":"0011223344556677","typ":"JWT"}`, good), "resident", ErrInvalid},
		{"kid of the other key, signed with this one", signRaw(verifyKey, `{"alg":"HS256","kid":"`+KeyID(otherKey)+`","typ":"JWT"}`, good), "resident", ErrInvalid},
		{"the previous key, its own kid", signRaw(otherKey, `{"alg":"HS256","kid":"`+KeyID(otherKey)+`","typ":"JWT"}`, good), "resident", nil},
		{"header with spaces (golang-jwt decides)", signRaw(verifyKey, `{"alg": "HS256", "kid": "`+kid+`"}`, good), "resident", nil},
		{"payload changed", parts[0] + "." + enc([]byte(strings.Replace(good, "a1", "a2", 1))) + "." + parts[2], "resident", ErrInvalid},
		{"signature changed", parts[0] + "." + parts[1] + "." + enc(make([]byte, 32)), "resident", ErrInvalid},
		{"signature cut short", parts[0] + "." + parts[1] + "." + parts[2][:40], "resident", ErrInvalid},
		{"signature missing", parts[0] + "." + parts[1] + ".", "resident", ErrInvalid},
		{"two segments", parts[0] + "." + parts[1], "resident", ErrInvalid},
		{"four segments", valid + "." + parts[2], "resident", ErrInvalid},
		{"padded signature", valid + "=", "resident", ErrInvalid},
		{"too long", signRaw(verifyKey, header, strings.Replace(good, `"s1"`, `"`+strings.Repeat("s", maxLen)+`"`, 1)), "resident", ErrInvalid},
		{"another issuer", signRaw(verifyKey, header, strings.Replace(good, "ekolek", "someone", 1)), "resident", ErrInvalid},
		{"no issuer", signRaw(verifyKey, header, strings.Replace(good, `"iss":"ekolek",`, "", 1)), "resident", ErrInvalid},
		{"two audiences", signRaw(verifyKey, header, strings.Replace(good, `["resident"]`, `["resident","admin"]`, 1)), "resident", ErrInvalid},
		{"audience as a string (golang-jwt decides)", signRaw(verifyKey, header, strings.Replace(good, `["resident"]`, `"resident"`, 1)), "resident", nil},
		{"no audience", signRaw(verifyKey, header, strings.Replace(good, `"aud":["resident"],`, "", 1)), "resident", ErrInvalid},
		{"no subject", signRaw(verifyKey, header, strings.Replace(good, `"sub":"a1",`, "", 1)), "resident", ErrInvalid},
		{"empty subject", signRaw(verifyKey, header, strings.Replace(good, `"sub":"a1"`, `"sub":""`, 1)), "resident", ErrInvalid},
		{"subject of 65 bytes", signRaw(verifyKey, header, strings.Replace(good, `"sub":"a1"`, `"sub":"`+strings.Repeat("a", 65)+`"`, 1)), "resident", ErrInvalid},
		{"no expiry", signRaw(verifyKey, header, strings.Replace(good, `"exp":1796630400,`, "", 1)), "resident", ErrInvalid},
		{"expiry null", signRaw(verifyKey, header, strings.Replace(good, `1796630400`, `null`, 1)), "resident", ErrInvalid},
		{"expiry passed", signRaw(verifyKey, header, strings.Replace(good, `1796630400`, `1796544000`, 1)), "resident", ErrExpired},
		{"expiry as a float (golang-jwt decides)", signRaw(verifyKey, header, strings.Replace(good, `1796630400`, `1796630400.5`, 1)), "resident", nil},
		{"expiry as a numeric string (golang-jwt decides)", signRaw(verifyKey, header, strings.Replace(good, `1796630400`, `"1796630400"`, 1)), "resident", nil},
		{"expiry as another string", signRaw(verifyKey, header, strings.Replace(good, `1796630400`, `"tomorrow"`, 1)), "resident", ErrInvalid},
		{"claims not JSON", signRaw(verifyKey, header, `{"sub":`), "resident", ErrInvalid},
		{"claims an array", signRaw(verifyKey, header, `[]`), "resident", ErrInvalid},
		{"a duplicate key (golang-jwt decides: the last one)", signRaw(verifyKey, header, strings.Replace(good, `"sub":"a1"`, `"sub":"a1","sub":"a9"`, 1)), "resident", nil},
		{"a key in capitals (golang-jwt decides)", signRaw(verifyKey, header, strings.Replace(good, `"sub":"a1"`, `"SUB":"a1"`, 1)), "resident", nil},
		{"an escaped string (golang-jwt decides)", signRaw(verifyKey, header, strings.Replace(good, `"sub":"a1"`, `"sub":"\u0061\u0031"`, 1)), "resident", nil},
		{"empty", "", "resident", ErrInvalid},
		{"dots", "..", "resident", ErrInvalid},
	} {
		t.Run(c.name, func(t *testing.T) {
			if len(c.tok) <= maxLen {
				sameAnswer(t, set, c.tok)
			}
			got, err := k.Parse(t.Context(), c.audience, c.tok, now)
			if err != c.want {
				t.Fatalf("Parse: %v, want %v", err, c.want)
			}
			if err == nil && (got.Subject != "a1" && got.Subject != "a9" || got.Audience != "resident") {
				t.Fatalf("Parse: %+v", got)
			}
		})
	}
}

// FuzzVerifyMatchesJWT feeds anything as a token: the fast path and
// golang-jwt must answer alike.
func FuzzVerifyMatchesJWT(f *testing.F) {
	set := testSet(f)
	k := &Keys{}
	k.set.Store(set)
	now := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	tok, _ := k.Sign(Claims{Audience: "resident", Subject: "a1", SessionID: "s1", IssuedAt: now, ExpiresAt: now.Add(time.Hour)})
	parts := strings.Split(tok, ".")
	f.Add(tok)
	f.Add(parts[0] + "." + parts[1] + ".")
	f.Add(parts[0] + ".." + parts[2])
	f.Add(parts[0] + "." + parts[1] + "\n." + parts[2])
	f.Add(tok + "." + parts[2])
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		if len(tok) > maxLen {
			return // Parse refuses these before either path.
		}
		sameAnswer(t, set, tok)
	})
}

// FuzzSignedClaimsMatchJWT signs any header and claims with the key (what
// only a key holder can write, so random tokens never reach the claims):
// the fast path's decoder and golang-jwt's must read them alike.
func FuzzSignedClaimsMatchJWT(f *testing.F) {
	set := testSet(f)
	kid := KeyID(verifyKey)
	header := `{"alg":"HS256","kid":"` + kid + `","typ":"JWT"}`
	for _, c := range []string{
		`{"sid":"s1","iss":"ekolek","sub":"a1","aud":["resident"],"exp":1796630400,"iat":1796544000}`,
		`{"iss":"ekolek","sub":"a1","aud":["admin:password_reset"],"exp":1796630400,"iat":1796544000,"jti":"rec1"}`,
		`{}`,
		`{"exp":0}`,
		`{"exp":999999999999999}`,
		`{"exp":9999999999999999}`,
		`{"exp":1e9}`,
		`{"exp":-1}`,
		`{"exp":01}`,
		`{"aud":"resident"}`,
		`{"aud":[]}`,
		`{"aud":["a","b"]}`,
		`{"aud":null}`,
		`{"sub":"a\u0031"}`,
		`{"sub":"a1","sub":"a2"}`,
		`{"Sub":"a1"}`,
		`{"sub":"é"}`,
		`{"sub":"a1"} `,
		`{"sub":"a1",}`,
		`{"nbf":1,"sub":"a1"}`,
	} {
		f.Add(header, c)
	}
	f.Add(`{"alg":"HS256","kid":"`+kid+`"}`, `{"sub":"a1"}`)
	f.Fuzz(func(t *testing.T, header, claims string) {
		tok := signRaw(verifyKey, header, claims)
		if len(tok) > maxLen {
			return
		}
		sameAnswer(t, set, tok)
	})
}
