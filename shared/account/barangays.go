package account

import (
	"strings"

	"github.com/ekolek/identity/shared/text"
)

// Barangays is the directory of barangays (config EKOLEK_BARANGAYS, served
// at GET /v1/barangays): a resident registers in one of them and an admin is
// assigned some of them. Free text would let "San Roque", "San  Roque" and
// "Sn Roque" be three barangays, and an operations manager of one would not
// see the residents of the others.
type Barangays []string

// Canonical returns the directory's spelling of name (compared in NFC,
// ignoring case and surrounding spaces), or false when the directory has no
// such barangay.
func (d Barangays) Canonical(name string) (string, bool) {
	name, err := text.Normalize(strings.TrimSpace(name))
	if err != nil {
		return "", false
	}
	for _, b := range d {
		if strings.EqualFold(b, name) {
			return b, true
		}
	}
	return "", false
}

// notInDirectory is the field error for a barangay the directory lacks.
const notInDirectory = "must be a barangay of the directory (GET /v1/barangays)"
