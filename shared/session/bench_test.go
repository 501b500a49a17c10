package session_test

import (
	"context"
	"testing"
	"time"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/clock"
	"github.com/ekolek/identity/shared/session"
	"github.com/ekolek/identity/shared/store/embedded"
	"github.com/ekolek/identity/shared/token"
)

// BenchmarkCheck is the session check every authenticated request pays:
// token verification plus one store read, on the embedded store, with no
// idle refresh due.
func BenchmarkCheck(b *testing.B) {
	st, err := embedded.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	acct := account.Account{Realm: account.Resident, ID: "acct1", Status: account.StatusApproved, Email: "juan@example.com", CreatedAt: now}
	if err := st.CreateAccount(ctx, acct); err != nil {
		b.Fatal(err)
	}
	keys, _ := token.NewKeys([]byte("bench-signing-key-0123456789abcdef01"))
	m := session.NewManager(st, keys, clock.NewManual(now), map[account.Realm]session.Lifetimes{
		account.Resident: {Idle: 2 * time.Hour, Absolute: 24 * time.Hour},
	})
	token, _, err := m.Start(ctx, acct, "127.0.0.1", "bench", "")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := m.Check(ctx, account.Resident, token); err != nil {
			b.Fatal(err)
		}
	}
}
