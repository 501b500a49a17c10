package account

import "github.com/ekolek/identity/shared/password"

// CheckPassword proves pw is a's password (a step-up before a sensitive
// change): ErrInvalidCredentials when it is not, and for an account
// without one. It costs one hash either way.
func (s *Service) CheckPassword(a Account, pw string) error {
	if pw == "" || len(pw) > 4*password.MaxLength || a.PasswordHash == "" {
		s.hasher.Burn(pw)
		return ErrInvalidCredentials
	}
	if ok, _, err := s.hasher.Verify(pw, a.PasswordHash); err != nil || !ok {
		return ErrInvalidCredentials
	}
	return nil
}
