package account

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/ekolek/identity/shared/store"
	"github.com/ekolek/identity/shared/text"
)

// ErrLastSuperAdmin refuses a change that would leave no active super admin.
var ErrLastSuperAdmin = errors.New("account: the last active super admin cannot be demoted or suspended")

// ErrChangeSelf refuses an admin changing their own role or status: a
// slip would lock them out, and another super admin can do it.
var ErrChangeSelf = errors.New("account: admins cannot change their own role or status")

// AdminChange is a partial update of an admin; nil fields stay as they are.
type AdminChange struct {
	Role      *string
	Status    *string
	Barangays *[]string
	FullName  *string
	Reason    string
}

// UpdateAdmin applies ch to the admin id on behalf of actor. The last active
// super admin cannot be demoted or suspended: the check and the write are
// tied to the admin roster's version, so two concurrent changes cannot both
// pass it. Suspending ends the admin's sessions in the same write. It returns
// the updated admin, its previous state and how many sessions ended.
func (s *Service) UpdateAdmin(ctx context.Context, actor Account, id string, ch AdminChange) (Account, Account, int, error) {
	roster, err := s.store.Roster(ctx)
	if err != nil {
		return Account{}, Account{}, 0, err
	}
	a, err := s.store.GetAccount(ctx, Admin, id)
	if err != nil {
		return Account{}, Account{}, 0, err
	}
	if id == actor.ID && (ch.Role != nil || ch.Status != nil) {
		return Account{}, Account{}, 0, ErrChangeSelf
	}
	prev := a
	fields := map[string]string{}
	if ch.Role != nil {
		r, ok := ParseRole(*ch.Role)
		if !ok {
			fields["role"] = "must be one of super_admin, operations_manager, content_rewards_manager, security_analyst"
		}
		a.Role = r
	}
	if ch.Status != nil {
		switch Status(*ch.Status) {
		case StatusActive, StatusSuspended:
			a.Status = Status(*ch.Status)
		default:
			fields["status"] = "must be active or suspended"
		}
	}
	if ch.Barangays != nil {
		a.Barangays = s.cleanBarangays(fields, *ch.Barangays, prev.Barangays)
	}
	if ch.FullName != nil {
		a.FullName = checkName(fields, "full_name", *ch.FullName, 200)
	}
	if a.Role == RoleOperationsManager && len(a.Barangays) == 0 {
		fields["barangays"] = "an operations manager needs at least one barangay"
	}
	if len(fields) > 0 {
		return Account{}, Account{}, 0, &ValidationError{Fields: fields}
	}
	losesSuper := prev.Role == RoleSuperAdmin && prev.Status == StatusActive &&
		(a.Role != RoleSuperAdmin || a.Status != StatusActive)
	if losesSuper {
		n, err := s.activeSuperAdmins(ctx)
		if err != nil {
			return Account{}, Account{}, 0, err
		}
		if n <= 1 {
			return Account{}, Account{}, 0, ErrLastSuperAdmin
		}
	}
	now := s.clock.Now()
	a.UpdatedAt = now
	if a.Status != prev.Status {
		a.History = appendHistory(a.History, StatusChange{At: now, By: actor.ID, From: prev.Status, To: a.Status, Reason: ch.Reason})
	}
	endSessions := a.Status == StatusSuspended && prev.Status != StatusSuspended
	ended, err := s.store.UpdateAdmin(ctx, a, roster, endSessions)
	if err != nil {
		return Account{}, Account{}, 0, err
	}
	a.Version++
	return a, prev, ended, nil
}

// activeSuperAdmins counts the active super admins. The listing may come
// from an index that lags behind recent writes, so every candidate is read
// again, strongly consistent: a super admin demoted a moment ago is not
// counted (one promoted a moment ago may be missed, which only errs toward
// refusing).
func (s *Service) activeSuperAdmins(ctx context.Context) (int, error) {
	n, cursor := 0, ""
	for {
		page, next, err := s.store.ListAccounts(ctx, ListQuery{Realm: Admin, Status: StatusActive, Limit: 200, Cursor: cursor})
		if err != nil {
			return 0, err
		}
		for _, listed := range page {
			if listed.Role != RoleSuperAdmin {
				continue
			}
			a, err := s.store.GetAccount(ctx, Admin, listed.ID)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return 0, err
			}
			if a.Role == RoleSuperAdmin && a.Status == StatusActive {
				n++
			}
		}
		if next == "" {
			return n, nil
		}
		cursor = next
	}
}

// cleanBarangays reads a list of barangays for an admin: each one of the
// directory, in its spelling, once; blank entries are dropped. One the
// admin already holds (held) may stay though the directory lacks it:
// assignments made before the directory existed keep working until someone
// removes them.
func (s *Service) cleanBarangays(fields map[string]string, in, held []string) []string {
	var out []string
	for _, b := range in {
		if strings.TrimSpace(b) == "" {
			continue
		}
		name, ok := s.barangays.Canonical(b)
		if !ok {
			var err error
			if name, err = text.Normalize(strings.TrimSpace(b)); err != nil || !slices.Contains(held, name) {
				fields["barangays"] = notInDirectory
				continue
			}
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}

// ChangePassword sets a new password for a after checking the current one,
// ending every other session of the account (keep names the one to spare).
// A wrong current password is ErrInvalidCredentials.
func (s *Service) ChangePassword(ctx context.Context, a Account, current, next string, keep []string) (Account, int, error) {
	ok, _, err := s.hasher.Verify(current, a.PasswordHash)
	if err != nil || !ok {
		return Account{}, 0, ErrInvalidCredentials
	}
	if err := s.checks.NewPassword(next, UserInputs(a)); err != nil {
		return Account{}, 0, err
	}
	if a.PasswordHash, err = s.hasher.Hash(next); err != nil {
		return Account{}, 0, err
	}
	a.UpdatedAt = s.clock.Now()
	ended, err := s.store.UpdateAccountEndSessionsExcept(ctx, a, keep)
	if err != nil {
		return Account{}, 0, err
	}
	a.Version++
	return a, ended, nil
}

// UserInputs are the account's own details a password must not be built from.
func UserInputs(a Account) []string {
	return []string{a.FirstName, a.LastName, a.FullName, a.Username, a.Email, a.Phone, a.Barangay}
}
