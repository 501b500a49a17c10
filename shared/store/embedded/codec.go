package embedded

import (
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/session"
)

// Sessions and accounts are read on every authenticated request, and
// decoding them with encoding/json was most of the embedded store's read
// (docs/performance.md). They are stored in a small binary form instead:
// a version byte, then each field in a fixed order (strings and times
// length-prefixed, integers as varints, slices with their length plus one,
// so nil and empty stay apart). One string conversion of the whole item
// backs every string field read from it. Items written as JSON by earlier
// versions start with '{' and are still read; they are rewritten in this
// form by their next change. TestCodecKeepsEveryField fails when a field
// of session.Session or account.Account is missing here.

// codecV1 starts every item in this form; JSON items start with '{'.
const codecV1 = 1

var errCorrupt = errors.New("embedded: corrupt item")

func encodeSession(s session.Session) ([]byte, error) {
	w := writer{b: make([]byte, 0, 256)}
	w.b = append(w.b, codecV1)
	w.str(string(s.Realm))
	w.str(s.AccountID)
	w.str(s.Key)
	w.time(s.CreatedAt)
	w.time(s.LastSeenAt)
	w.time(s.IdleExpiresAt)
	w.time(s.ExpiresAt)
	w.str(s.IP)
	w.str(s.UserAgent)
	w.int(s.Epoch)
	w.str(s.SecondFactor)
	w.time(s.AuthenticatedAt)
	return w.b, w.err
}

func decodeSession(data []byte) (session.Session, error) {
	var s session.Session
	if len(data) > 0 && data[0] == '{' {
		return fromJSON[session.Session](data)
	}
	r, err := newReader(data)
	if err != nil {
		return s, err
	}
	s.Realm = account.Realm(r.str())
	s.AccountID = r.str()
	s.Key = r.str()
	s.CreatedAt = r.time()
	s.LastSeenAt = r.time()
	s.IdleExpiresAt = r.time()
	s.ExpiresAt = r.time()
	s.IP = r.str()
	s.UserAgent = r.str()
	s.Epoch = r.int()
	s.SecondFactor = r.str()
	s.AuthenticatedAt = r.time()
	return s, r.done()
}

func encodeAccount(a account.Account) ([]byte, error) {
	w := writer{b: make([]byte, 0, 512)}
	w.b = append(w.b, codecV1)
	w.str(string(a.Realm))
	w.str(a.ID)
	w.str(string(a.Status))
	w.str(a.Email)
	w.bool(a.EmailVerified)
	w.str(a.Language)
	w.str(a.FirstName)
	w.str(a.LastName)
	w.str(a.Phone)
	w.bool(a.PhoneVerified)
	w.str(a.Barangay)
	w.str(a.Username)
	w.str(a.FullName)
	w.str(string(a.Role))
	w.count(len(a.Barangays), a.Barangays == nil)
	for _, b := range a.Barangays {
		w.str(b)
	}
	w.str(a.PasswordHash)
	w.count(len(a.History), a.History == nil)
	for _, h := range a.History {
		w.time(h.At)
		w.str(h.By)
		w.str(string(h.From))
		w.str(string(h.To))
		w.str(h.Reason)
	}
	w.time(a.CreatedAt)
	w.time(a.UpdatedAt)
	w.int(a.Version)
	w.int(a.SessionEpoch)
	return w.b, w.err
}

func decodeAccount(data []byte) (account.Account, error) {
	var a account.Account
	if len(data) > 0 && data[0] == '{' {
		return fromJSON[account.Account](data)
	}
	r, err := newReader(data)
	if err != nil {
		return a, err
	}
	a.Realm = account.Realm(r.str())
	a.ID = r.str()
	a.Status = account.Status(r.str())
	a.Email = r.str()
	a.EmailVerified = r.bool()
	a.Language = r.str()
	a.FirstName = r.str()
	a.LastName = r.str()
	a.Phone = r.str()
	a.PhoneVerified = r.bool()
	a.Barangay = r.str()
	a.Username = r.str()
	a.FullName = r.str()
	a.Role = account.Role(r.str())
	if n, isNil := r.count(); !isNil {
		a.Barangays = make([]string, n)
		for i := range a.Barangays {
			a.Barangays[i] = r.str()
		}
	}
	a.PasswordHash = r.str()
	if n, isNil := r.count(); !isNil {
		a.History = make([]account.StatusChange, n)
		for i := range a.History {
			h := &a.History[i]
			h.At = r.time()
			h.By = r.str()
			h.From = account.Status(r.str())
			h.To = account.Status(r.str())
			h.Reason = r.str()
		}
	}
	a.CreatedAt = r.time()
	a.UpdatedAt = r.time()
	a.Version = r.int()
	a.SessionEpoch = r.int()
	return a, r.done()
}

// fromJSON reads an item an earlier version wrote as JSON. (A function of
// its own: decoding into the caller's variable would move it to the heap
// on every read.)
func fromJSON[T any](data []byte) (T, error) {
	var v T
	err := json.Unmarshal(data, &v)
	return v, err
}

// writer appends fields to b; err is the first time it could not write.
type writer struct {
	b   []byte
	err error
}

func (w *writer) str(s string) {
	w.b = binary.AppendUvarint(w.b, uint64(len(s)))
	w.b = append(w.b, s...)
}

func (w *writer) bool(v bool) {
	if v {
		w.b = append(w.b, 1)
	} else {
		w.b = append(w.b, 0)
	}
}

func (w *writer) int(v int64) { w.b = binary.AppendVarint(w.b, v) }

// count writes a slice's length, 0 for a nil slice.
func (w *writer) count(n int, isNil bool) {
	if isNil {
		w.b = binary.AppendUvarint(w.b, 0)
		return
	}
	w.b = binary.AppendUvarint(w.b, uint64(n)+1)
}

// time writes t as time.Time's own binary form (the instant and the zone
// offset, as the JSON form kept them; no monotonic reading).
func (w *writer) time(t time.Time) {
	start := len(w.b)
	b, err := t.AppendBinary(append(w.b, 0))
	if err != nil {
		w.err = cmp.Or(w.err, fmt.Errorf("embedded: %w", err))
		return
	}
	b[start] = byte(len(b) - start - 1)
	w.b = b
}

// reader reads fields in the order writer wrote them. The first error
// sticks; done reports it.
type reader struct {
	data []byte
	s    string // data as one string: every string field is a slice of it
	i    int
	bad  bool
}

func newReader(data []byte) (reader, error) {
	if len(data) == 0 || data[0] != codecV1 {
		return reader{}, errCorrupt
	}
	return reader{data: data, s: string(data), i: 1}, nil
}

func (r *reader) uvarint() uint64 {
	if r.bad {
		return 0
	}
	v, n := binary.Uvarint(r.data[r.i:])
	if n <= 0 {
		r.bad = true
		return 0
	}
	r.i += n
	return v
}

func (r *reader) str() string {
	n := r.uvarint()
	if r.bad || n > uint64(len(r.data)-r.i) {
		r.bad = true
		return ""
	}
	s := r.s[r.i : r.i+int(n)]
	r.i += int(n)
	return s
}

func (r *reader) bool() bool {
	if r.bad || r.i >= len(r.data) || r.data[r.i] > 1 {
		r.bad = true
		return false
	}
	r.i++
	return r.data[r.i-1] == 1
}

func (r *reader) int() int64 {
	if r.bad {
		return 0
	}
	v, n := binary.Varint(r.data[r.i:])
	if n <= 0 {
		r.bad = true
		return 0
	}
	r.i += n
	return v
}

// count reads a slice length written by writer.count; it is bounded by
// what is left, so a corrupt length cannot allocate much.
func (r *reader) count() (n int, isNil bool) {
	v := r.uvarint()
	if r.bad || v == 0 {
		return 0, true
	}
	if v-1 > uint64(len(r.data)-r.i) {
		r.bad = true
		return 0, true
	}
	return int(v - 1), false
}

func (r *reader) time() time.Time {
	if r.bad || r.i >= len(r.data) {
		r.bad = true
		return time.Time{}
	}
	n := int(r.data[r.i])
	r.i++
	if n > len(r.data)-r.i {
		r.bad = true
		return time.Time{}
	}
	var t time.Time
	if err := t.UnmarshalBinary(r.data[r.i : r.i+n]); err != nil {
		r.bad = true
		return time.Time{}
	}
	r.i += n
	return t
}

func (r *reader) done() error {
	if r.bad || r.i != len(r.data) {
		return errCorrupt
	}
	return nil
}
