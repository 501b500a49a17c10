//go:build !linux

package rie

import "errors"

// PeakRSS needs Linux's /proc.
func (e *Emulator) PeakRSS() (int64, error) {
	return 0, errors.ErrUnsupported
}
