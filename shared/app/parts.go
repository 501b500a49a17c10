package app

import (
	"context"
	"maps"
	"net/http"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/httpapi"
	"github.com/ekolek/identity/shared/mfa"
	"github.com/ekolek/identity/shared/notify"
	"github.com/ekolek/identity/shared/password"
	"github.com/ekolek/identity/shared/sender"
)

// Parts are the pieces only some functions link, because each is large or
// slow to start (docs/deploy.md has the numbers). A function's main names
// those its routes declare (PartTable says which field each declaration
// stands for); the local API, ekolekctl and the tests name all of them
// (package allparts).
type Parts struct {
	// Phone reads phone numbers (phone.Normalize).
	Phone func(string) (string, error)
	// Password judges new passwords (strength.Check).
	Password password.Policy
	// Messenger returns the notifier that sends email and SMS through AWS
	// (awsnotify.New), for EKOLEK_NOTIFIER=aws: the sender's.
	Messenger func(c aws.Config, emailFrom string) notify.Notifier
	// AWSConfig loads the AWS configuration; nil reads only what Lambda
	// puts in the environment (awsenv.Load). No route declares it: the
	// SDK's full loader is for programs run on people's machines.
	AWSConfig func(context.Context) (aws.Config, error)
	// Pages builds the handler of the pages (web.Handler): the embedded
	// portal and console.
	Pages func() (http.Handler, error)
	// TOTP makes and checks authenticator-app codes (totp.App).
	TOTP mfa.TOTPApp
	// Passkeys builds the WebAuthn ceremonies (passkey.New).
	Passkeys mfa.NewPasskeys
	// DeadLetters returns the SQS dead-letter queue at a URL
	// (deadletter.New): function sender's, for the messages it gives up on.
	DeadLetters func(c aws.Config, queueURL string) sender.DeadLetters
}

// Part is one optional part of the system: a row of PartTable.
type Part struct {
	// Needs is the bit a route declares the part with (httpapi.Route.Needs).
	Needs httpapi.Needs
	// Field is the Parts field that provides it.
	Field string
	// Package is the package that provides it, in this module. A function
	// links it only when its routes declare the part (infra/samcheck checks
	// every function with go list).
	Package string

	// in reports whether b has the part; drop takes it out of b.
	in   func(b built) bool
	drop func(b *built)
}

// PartTable is the one description of the optional parts. Routes declare
// the parts they use (httpapi.Table); by this table Handler refuses to
// serve routes whose parts the program lacks and gives a handler no part
// its routes do not declare.
var PartTable = []Part{
	{Needs: httpapi.NeedsPhone, Field: "Phone", Package: "shared/phone",
		in:   func(b built) bool { return b.checks.Phone != nil },
		drop: func(b *built) { b.checks.Phone = nil }},
	{Needs: httpapi.NeedsPasswordPolicy, Field: "Password", Package: "shared/password/strength",
		in:   func(b built) bool { return b.checks.Password != nil },
		drop: func(b *built) { b.checks.Password = nil }},
	// Any notifier delivers: the local Keep needs no Messenger.
	{Needs: httpapi.NeedsDelivery, Field: "Messenger", Package: "shared/notify/awsnotify",
		in:   func(b built) bool { return b.notifier != nil },
		drop: func(b *built) { b.notifier = nil }},
	{Needs: httpapi.NeedsPages, Field: "Pages", Package: "shared/web",
		in:   func(b built) bool { return b.pages != nil },
		drop: func(b *built) { b.pages = nil }},
	{Needs: httpapi.NeedsTOTP, Field: "TOTP", Package: "shared/totp",
		in:   func(b built) bool { return b.totp != nil },
		drop: func(b *built) { b.totp = nil }},
	{Needs: httpapi.NeedsPasskey, Field: "Passkeys", Package: "shared/passkey",
		in:   func(b built) bool { return b.passkeys != nil },
		drop: func(b *built) { b.passkeys = nil }},
	{Needs: httpapi.NeedsDeadLetters, Field: "DeadLetters", Package: "shared/deadletter",
		in:   func(b built) bool { return b.dead != nil },
		drop: func(b *built) { b.dead = nil }},
}

// Background are the functions no route names, each with the parts it
// needs: they run on an event source of the template, not behind the API.
// Function sender delivers the outbox from the table's DynamoDB Stream
// (StartSender).
var Background = map[string]httpapi.Needs{
	"sender": httpapi.NeedsDelivery | httpapi.NeedsDeadLetters,
}

// Functions are every Lambda function: the route table's, then the
// background ones.
func Functions() []string {
	return append(httpapi.Functions(), slices.Sorted(maps.Keys(Background))...)
}

// NeedsOf is what function needs: its routes' parts (httpapi.NeedsOf), or
// a background function's.
func NeedsOf(function string) httpapi.Needs {
	if n, ok := Background[function]; ok {
		return n
	}
	return httpapi.NeedsOf(function)
}

// built is what the optional parts are once the system is built: the
// checks the services are given, the pages, and the notifier and
// dead-letter queue the sender delivers with. What a program lacks is
// nil, and so is, in a handler's services, what its routes do not
// declare; using it panics (account.Checks).
type built struct {
	checks   account.Checks
	notifier notify.Notifier
	pages    http.Handler
	totp     mfa.TOTPApp
	passkeys mfa.NewPasskeys
	dead     sender.DeadLetters
}

// provides is the parts b has.
func (b built) provides() httpapi.Needs {
	var n httpapi.Needs
	for _, p := range PartTable {
		if p.in(b) {
			n |= p.Needs
		}
	}
	return n
}

// only is b without the parts n does not name.
func (b built) only(n httpapi.Needs) built {
	for _, p := range PartTable {
		if n&p.Needs == 0 {
			p.drop(&b)
		}
	}
	return b
}

// fieldsOf names the Parts fields of the parts in n.
func fieldsOf(n httpapi.Needs) []string {
	var out []string
	for _, p := range PartTable {
		if n&p.Needs != 0 {
			out = append(out, p.Field)
		}
	}
	return out
}
