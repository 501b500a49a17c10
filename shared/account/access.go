package account

import "slices"

// Permission is something an admin may do.
type Permission string

// Permissions.
const (
	// ReadResidents: list and view residents (scoped to the admin's
	// barangays when ScopedToBarangays).
	ReadResidents Permission = "residents:read"
	// ManageResidents: approve, reject, suspend, reactivate (same scope).
	ManageResidents Permission = "residents:manage"
	// ManageAdmins: list, create and change admins.
	ManageAdmins Permission = "admins:manage"
	// ReadSecurityEvents: read the security event trail.
	ReadSecurityEvents Permission = "security_events:read"
	// RevokeSessions: end every session of any account.
	RevokeSessions Permission = "sessions:revoke"
	// ClearFactors: remove every second factor of another account (and end
	// its sessions), for someone who lost theirs.
	ClearFactors Permission = "mfa:clear"
)

// matrix is the one place that says which role may do what.
var matrix = map[Role][]Permission{
	RoleSuperAdmin:            {ReadResidents, ManageResidents, ManageAdmins, ReadSecurityEvents, RevokeSessions, ClearFactors},
	RoleOperationsManager:     {ReadResidents, ManageResidents},
	RoleContentRewardsManager: {},
	RoleSecurityAnalyst:       {ReadSecurityEvents, RevokeSessions},
}

// Can reports whether role may do p.
func (r Role) Can(p Permission) bool { return slices.Contains(matrix[r], p) }

// Permissions is what role may do, in the matrix's order (never nil): the
// admin console shows only these (the API still decides every request).
func (r Role) Permissions() []Permission { return append([]Permission{}, matrix[r]...) }

// ScopedToBarangays reports whether the role sees only residents of the
// admin's assigned barangays.
func (r Role) ScopedToBarangays() bool { return r == RoleOperationsManager }

// Sees reports whether admin may see resident at all: out of scope is as
// if it did not exist.
func (admin Account) Sees(resident Account) bool {
	if !admin.Role.ScopedToBarangays() {
		return true
	}
	return slices.Contains(admin.Barangays, resident.Barangay)
}

// rank orders roles by what they may do to other admins: a super admin
// manages admins, every other role is a peer of the rest.
func (r Role) rank() int {
	if r == RoleSuperAdmin {
		return 1
	}
	return 0
}

// MayEndSessionsOf reports whether admin, who holds RevokeSessions, may end
// target's sessions: any resident's, and an admin's whose role is not above
// admin's own (a security analyst cannot sign every super admin out).
func (admin Account) MayEndSessionsOf(target Account) bool {
	return target.Realm != Admin || target.Role.rank() <= admin.Role.rank()
}
