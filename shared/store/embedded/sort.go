package embedded

import (
	"sort"

	"github.com/ekolek/identity/shared/session"
)

// sortSessions orders sessions oldest first, as the contract says; keys are hashes, not times.
func sortSessions(ss []session.Session) {
	sort.SliceStable(ss, func(i, j int) bool {
		if !ss[i].CreatedAt.Equal(ss[j].CreatedAt) {
			return ss[i].CreatedAt.Before(ss[j].CreatedAt)
		}
		return ss[i].Key < ss[j].Key
	})
}
