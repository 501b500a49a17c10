package outbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ekolek/identity/shared/notify"
)

// ErrUnsealable means a sealed message could not be opened with any key
// this Sealer has: it was sealed with a key no longer in use, or altered.
var ErrUnsealable = errors.New("outbox: message cannot be unsealed")

// sealVersion is the first byte of a sealed message: the format, so that
// another one can follow.
const sealVersion = 1

// Sealer seals what a message says with AES-256-GCM under a key derived
// from the application's secret (as the code HMAC key is), with the
// message's id as associated data: a sealed payload moved to another
// message does not open. It opens with the current key or the previous
// one, so a message written just before a key rotation is still delivered.
type Sealer struct {
	aeads []cipher.AEAD // current first
}

// NewSealer returns a Sealer with keys derived from secret and, for
// opening only, from previous.
func NewSealer(secret []byte, previous ...[]byte) (*Sealer, error) {
	s := &Sealer{}
	for _, k := range append([][]byte{secret}, previous...) {
		if len(k) == 0 {
			continue
		}
		m := hmac.New(sha256.New, k)
		m.Write([]byte("ekolek/outbox/v1"))
		block, err := aes.NewCipher(m.Sum(nil))
		if err != nil {
			return nil, fmt.Errorf("outbox: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("outbox: %w", err)
		}
		s.aeads = append(s.aeads, aead)
	}
	if len(s.aeads) == 0 {
		return nil, errors.New("outbox: no secret to seal messages with")
	}
	return s, nil
}

// payload is what is sealed: everything of a notify.Message but the
// channel, which is the item's own (delivery and the send limits read it).
type payload struct {
	To      string `json:"to"`
	Subject string `json:"subject,omitempty"`
	Text    string `json:"text"`
	HTML    string `json:"html,omitempty"`
}

// Seal seals m for the message id: the version byte, a random nonce, then
// the ciphertext and its tag.
func (s *Sealer) Seal(id string, m notify.Message) ([]byte, error) {
	plain, err := json.Marshal(payload{To: m.To, Subject: m.Subject, Text: m.Text, HTML: m.HTML})
	if err != nil {
		return nil, err
	}
	aead := s.aeads[0]
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plain)+aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("outbox: random: %w", err)
	}
	return aead.Seal(out, out[1:], plain, []byte(id)), nil
}

// Open opens what Seal sealed for id, as a message of channel ch.
func (s *Sealer) Open(id string, ch notify.Channel, sealed []byte) (notify.Message, error) {
	for _, aead := range s.aeads {
		n := 1 + aead.NonceSize()
		if len(sealed) < n || sealed[0] != sealVersion {
			return notify.Message{}, ErrUnsealable
		}
		plain, err := aead.Open(nil, sealed[1:n], sealed[n:], []byte(id))
		if err != nil {
			continue
		}
		var p payload
		if err := json.Unmarshal(plain, &p); err != nil {
			return notify.Message{}, fmt.Errorf("%w: %v", ErrUnsealable, err)
		}
		return notify.Message{Channel: ch, To: p.To, Subject: p.Subject, Text: p.Text, HTML: p.HTML}, nil
	}
	return notify.Message{}, ErrUnsealable
}
