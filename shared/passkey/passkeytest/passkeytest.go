// Package passkeytest is a software authenticator for tests: it answers
// the options of navigator.credentials.create and .get as a browser with
// a platform authenticator would (attestation "none", ES256 keys,
// discoverable credentials), so the WebAuthn ceremonies run end to end
// without a browser. Chromium's virtual authenticator does the same in
// the browser tests.
package passkeytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"
)

// Authenticator holds credentials for one relying party and answers
// ceremonies as coming from Origin.
type Authenticator struct {
	RPID, Origin string
	// AAGUID names the authenticator model (16 bytes).
	AAGUID []byte
	// NoUserVerification clears the UV flag, as an authenticator without
	// a PIN or biometric would.
	NoUserVerification bool

	mu    sync.Mutex
	creds []*Credential
}

// Credential is one key pair the authenticator holds.
type Credential struct {
	ID     []byte
	Handle []byte // the user handle it was created for
	Count  uint32 // the signature counter, moved on by each assertion
	key    *ecdsa.PrivateKey
}

// New returns an authenticator for rpID answering from origin.
func New(rpID, origin string) *Authenticator {
	return &Authenticator{RPID: rpID, Origin: origin, AAGUID: []byte("ekolek-test-auth")}
}

var b64 = base64.RawURLEncoding

// creationOptions is the part of PublicKeyCredentialCreationOptions (as
// the API sends it, JSON) the authenticator reads.
type creationOptions struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RP        struct {
			ID string `json:"id"`
		} `json:"rp"`
		User struct {
			ID string `json:"id"`
		} `json:"user"`
		Exclude []struct {
			ID string `json:"id"`
		} `json:"excludeCredentials"`
	} `json:"publicKey"`
}

// Create answers creation options (JSON) with a new credential: the
// PublicKeyCredential as the browser sends it, JSON.
func (a *Authenticator) Create(options []byte) ([]byte, *Credential, error) {
	var o creationOptions
	if err := json.Unmarshal(options, &o); err != nil {
		return nil, nil, err
	}
	if o.PublicKey.RP.ID != a.RPID {
		return nil, nil, fmt.Errorf("passkeytest: options for relying party %q, I am %q's", o.PublicKey.RP.ID, a.RPID)
	}
	handle, err := b64.DecodeString(o.PublicKey.User.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("passkeytest: user id: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, x := range o.PublicKey.Exclude {
		for _, c := range a.creds {
			if b64.EncodeToString(c.ID) == x.ID {
				return nil, nil, errors.New("passkeytest: InvalidStateError: a credential in excludeCredentials is here")
			}
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	c := &Credential{ID: make([]byte, 32), Handle: handle, key: key}
	_, _ = rand.Read(c.ID)
	point, err := key.PublicKey.Bytes() // 0x04 ‖ X ‖ Y
	if err != nil {
		return nil, nil, err
	}
	pub, err := webauthncbor.Marshal(webauthncose.EC2PublicKeyData{
		PublicKeyData: webauthncose.PublicKeyData{KeyType: int64(webauthncose.EllipticKey), Algorithm: int64(webauthncose.AlgES256)},
		Curve:         1, // P-256
		XCoord:        point[1:33],
		YCoord:        point[33:],
	})
	if err != nil {
		return nil, nil, err
	}
	auth := a.authData(0x40, 0) // AT: attested credential data follows
	auth = append(auth, a.AAGUID...)
	auth = binary.BigEndian.AppendUint16(auth, uint16(len(c.ID)))
	auth = append(auth, c.ID...)
	auth = append(auth, pub...)
	att, err := webauthncbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": auth})
	if err != nil {
		return nil, nil, err
	}
	a.creds = append(a.creds, c)
	out, err := json.Marshal(map[string]any{
		"id": b64.EncodeToString(c.ID), "rawId": b64.EncodeToString(c.ID), "type": "public-key",
		"authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{},
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(a.clientData("webauthn.create", o.PublicKey.Challenge)),
			"attestationObject": b64.EncodeToString(att),
			"transports":        []string{"internal", "hybrid"},
		},
	})
	return out, c, err
}

// requestOptions is the part of PublicKeyCredentialRequestOptions the
// authenticator reads.
type requestOptions struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RPID      string `json:"rpId"`
		Allow     []struct {
			ID string `json:"id"`
		} `json:"allowCredentials"`
	} `json:"publicKey"`
}

// Get answers request options (JSON) with an assertion by the first
// credential it holds that the options allow (any, for a discoverable
// login), moving that credential's counter on.
func (a *Authenticator) Get(options []byte) ([]byte, *Credential, error) {
	var o requestOptions
	if err := json.Unmarshal(options, &o); err != nil {
		return nil, nil, err
	}
	if o.PublicKey.RPID != a.RPID {
		return nil, nil, fmt.Errorf("passkeytest: options for relying party %q, I am %q's", o.PublicKey.RPID, a.RPID)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	i := slices.IndexFunc(a.creds, func(c *Credential) bool {
		return len(o.PublicKey.Allow) == 0 || slices.ContainsFunc(o.PublicKey.Allow, func(x struct {
			ID string `json:"id"`
		}) bool {
			return x.ID == b64.EncodeToString(c.ID)
		})
	})
	if i < 0 {
		return nil, nil, errors.New("passkeytest: NotAllowedError: no credential for these options")
	}
	c := a.creds[i]
	c.Count++
	out, err := a.Assert(c, o.PublicKey.Challenge)
	return out, c, err
}

// Assert signs an assertion of c for challenge (base64url) with c's
// counter as it stands: tests replay or wind back counters with it.
func (a *Authenticator) Assert(c *Credential, challenge string) ([]byte, error) {
	auth := a.authData(0, c.Count)
	cd := a.clientData("webauthn.get", challenge)
	h := sha256.Sum256(cd)
	digest := sha256.Sum256(append(slices.Clone(auth), h[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, c.key, digest[:])
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"id": b64.EncodeToString(c.ID), "rawId": b64.EncodeToString(c.ID), "type": "public-key",
		"authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{},
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(cd),
			"authenticatorData": b64.EncodeToString(auth),
			"signature":         b64.EncodeToString(sig),
			"userHandle":        b64.EncodeToString(c.Handle),
		},
	})
}

// authData is the authenticator data's fixed part: the RP id hash, the
// flags (UP, UV unless turned off, BE and BS: a synced passkey, plus
// extra) and the counter.
func (a *Authenticator) authData(extra byte, count uint32) []byte {
	rp := sha256.Sum256([]byte(a.RPID))
	flags := byte(0x01|0x08|0x10) | extra
	if !a.NoUserVerification {
		flags |= 0x04
	}
	return binary.BigEndian.AppendUint32(append(rp[:], flags), count)
}

func (a *Authenticator) clientData(typ, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": a.Origin, "crossOrigin": false})
	return b
}
