package outbox_test

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/clock"
	"github.com/ekolek/identity/shared/notify"
	"github.com/ekolek/identity/shared/outbox"
)

var (
	current = []byte(strings.Repeat("c", 32))
	other   = []byte(strings.Repeat("o", 32))
)

func sealer(t *testing.T, key []byte) *outbox.Sealer {
	t.Helper()
	s, err := outbox.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// What a message says is sealed: the code is not in the sealed bytes, it
// opens for its own id only, not once altered, not under another key, and
// each seal has a fresh nonce.
func TestSealedMessagesOpenForTheirIDOnly(t *testing.T) {
	s := sealer(t, current)
	m := notify.Compose(notify.ResetCode, "en", notify.Email, "juan@example.com", notify.Data{Name: "Juan", Code: "482913", Minutes: 10})
	id := outbox.NewID(time.Now())
	sealed, err := s.Seal(id, m)
	if err != nil {
		t.Fatal(err)
	}
	for _, plain := range []string{"482913", "juan@example.com", "Juan"} {
		if bytes.Contains(sealed, []byte(plain)) {
			t.Errorf("the sealed message shows %q", plain)
		}
	}
	got, err := s.Open(id, notify.Email, sealed)
	if err != nil || got != m {
		t.Fatalf("Open = %+v, %v; want the message back", got, err)
	}
	if _, err := s.Open(outbox.NewID(time.Now()), notify.Email, sealed); !errors.Is(err, outbox.ErrUnsealable) {
		t.Errorf("opened under another message's id: %v", err)
	}
	altered := slices.Clone(sealed)
	altered[len(altered)-1] ^= 1
	if _, err := s.Open(id, notify.Email, altered); !errors.Is(err, outbox.ErrUnsealable) {
		t.Errorf("an altered message opened: %v", err)
	}
	if _, err := sealer(t, other).Open(id, notify.Email, sealed); !errors.Is(err, outbox.ErrUnsealable) {
		t.Errorf("opened with another key: %v", err)
	}
	again, err := s.Seal(id, m)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(sealed, again) {
		t.Error("two seals of one message are equal: no fresh nonce")
	}
}

// Ids sort by creation time and carry it; messages composed one after
// another at a clock that stands still keep their order.
func TestIDsSortByCreationTime(t *testing.T) {
	base := time.Date(2026, 11, 27, 8, 0, 0, 123, time.UTC)
	var ids []string
	for i := range 50 {
		ids = append(ids, outbox.NewID(base.Add(time.Duration(i)*time.Nanosecond*7)))
	}
	if !slices.IsSorted(ids) {
		t.Errorf("ids of later messages sort earlier: %v", ids)
	}
	if at, ok := outbox.CreatedAtOf(ids[3]); !ok || !at.Equal(base.Add(21*time.Nanosecond)) {
		t.Errorf("CreatedAtOf = %v, %v", at, ok)
	}
	for _, bad := range []string{"", "zz", strings.Repeat("g", 32), ids[0][:31]} {
		if _, ok := outbox.CreatedAtOf(bad); ok {
			t.Errorf("CreatedAtOf(%q) took it for an id", bad)
		}
	}
	c := outbox.NewComposer(sealer(t, current), clock.NewManual(base))
	var composed []string
	for range 20 {
		m, err := c.Compose(notify.PasswordChanged, "fil", notify.SMS, "+639171234567", notify.Data{Name: "Juan"}, account.Resident, "r1")
		if err != nil {
			t.Fatal(err)
		}
		if m.State != outbox.Pending || m.Attempts != 0 || m.ExpiresAt() != m.CreatedAt.Add(outbox.Retention) {
			t.Fatalf("a new message: %+v", m)
		}
		composed = append(composed, m.ID)
	}
	if !slices.IsSorted(composed) || len(slices.Compact(slices.Clone(composed))) != len(composed) {
		t.Errorf("messages composed at a clock that stands still: %v", composed)
	}
}
