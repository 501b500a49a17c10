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

// ErrUnsealable means a sealed message could not be opened: it was sealed
// under another key, or altered.
var ErrUnsealable = errors.New("outbox: message cannot be unsealed")

// sealVersion is the first byte of a sealed message: the format, so that
// another one can follow.
const sealVersion = 1

// Sealer seals what a message says with AES-256-GCM under a key derived
// from the data key (config.DataKey, which outlives signing-key rotations;
// the code HMAC key and the second factors' keys are derived from it the
// same way), with the message's id as associated data: a sealed payload
// moved to another message does not open.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer returns a Sealer with its key derived from dataKey.
func NewSealer(dataKey []byte) (*Sealer, error) {
	if len(dataKey) == 0 {
		return nil, errors.New("outbox: no data key to seal messages with")
	}
	m := hmac.New(sha256.New, dataKey)
	m.Write([]byte("ekolek/outbox/v1"))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	return &Sealer{aead: aead}, nil
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
	aead := s.aead
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plain)+aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("outbox: random: %w", err)
	}
	return aead.Seal(out, out[1:], plain, []byte(id)), nil
}

// Open opens what Seal sealed for id, as a message of channel ch.
func (s *Sealer) Open(id string, ch notify.Channel, sealed []byte) (notify.Message, error) {
	n := 1 + s.aead.NonceSize()
	if len(sealed) < n || sealed[0] != sealVersion {
		return notify.Message{}, ErrUnsealable
	}
	plain, err := s.aead.Open(nil, sealed[1:n], sealed[n:], []byte(id))
	if err != nil {
		return notify.Message{}, ErrUnsealable
	}
	var p payload
	if err := json.Unmarshal(plain, &p); err != nil {
		return notify.Message{}, fmt.Errorf("%w: %v", ErrUnsealable, err)
	}
	return notify.Message{Channel: ch, To: p.To, Subject: p.Subject, Text: p.Text, HTML: p.HTML}, nil
}
