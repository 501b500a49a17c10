// Package backend says what a backing store is: every store port of the
// domain packages on one store. The embedded (bbolt) and DynamoDB stores
// implement it, package app runs the system on one, and package storetest
// checks both against it.
package backend

import (
	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/audit"
	"github.com/ekolek/identity/shared/contact"
	"github.com/ekolek/identity/shared/mfa"
	"github.com/ekolek/identity/shared/outbox"
	"github.com/ekolek/identity/shared/reset"
	"github.com/ekolek/identity/shared/session"
	"github.com/ekolek/identity/shared/throttle"
)

// Store is everything the system keeps. reset.Store includes code.Store;
// contact.Store and reset.Store add the two transactions VerifyContact and
// ResetPassword; mfa.Store is the second factor's.
type Store interface {
	account.Store
	session.Store
	throttle.Store
	outbox.Store
	contact.Store
	reset.Store
	audit.Store
	mfa.Store
}
