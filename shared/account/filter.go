package account

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
)

// ListFilter is a ListQuery's filters, normalised: barangays and prefixes
// sorted without duplicates, and no prefix filter at all when one of the
// prefixes is "" (everything begins with it). Both stores use it, so they
// filter, and fingerprint their cursors, alike.
type ListFilter struct {
	Barangays, Prefixes []string
	// Fingerprint covers realm, status and the filters: a cursor carries it
	// so it cannot be replayed on another listing.
	Fingerprint string
}

// Filter returns q's normalised filters.
func (q ListQuery) Filter() ListFilter {
	f := ListFilter{Barangays: sortedSet(q.Barangays), Prefixes: sortedSet(q.Prefixes)}
	if slices.Contains(f.Prefixes, "") {
		f.Prefixes = nil
	}
	h := sha256.New()
	fmt.Fprintf(h, "account.ListQuery\x00%s\x00%s", q.Realm, q.Status)
	for _, b := range f.Barangays {
		fmt.Fprintf(h, "\x00b%s", b)
	}
	for _, p := range f.Prefixes {
		fmt.Fprintf(h, "\x00p%s", p)
	}
	f.Fingerprint = base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:12])
	return f
}

// Any reports whether any filter applies.
func (f ListFilter) Any() bool { return len(f.Barangays) > 0 || len(f.Prefixes) > 0 }

// Matches applies the filters to one account: names compared lower-cased,
// email and phone as stored (identifiers are stored normalised). "" among
// the barangays stands for no barangay.
func (f ListFilter) Matches(a Account) bool {
	if len(f.Barangays) > 0 && !slices.Contains(f.Barangays, a.Barangay) {
		return false
	}
	if len(f.Prefixes) == 0 {
		return true
	}
	first, last := strings.ToLower(a.FirstName), strings.ToLower(a.LastName)
	for _, p := range f.Prefixes {
		for _, v := range []string{first, last, a.Email, a.Phone} {
			if strings.HasPrefix(v, p) {
				return true
			}
		}
	}
	return false
}

func sortedSet(v []string) []string {
	if len(v) == 0 {
		return nil
	}
	out := slices.Clone(v)
	slices.Sort(out)
	return slices.Compact(out)
}
