// Command passkey is a Lambda function: it serves the "passkey" rows of the
// route table (shared/httpapi/routes.go) behind API Gateway: registering a
// passkey, and a passkey as a login's second step or alone. It is the only
// function that links the WebAuthn library (app.Parts: Passkeys).
package main

import (
	"github.com/ekolek/identity/shared/app"
	"github.com/ekolek/identity/shared/passkey"
)

func main() {
	app.StartLambda("passkey", app.Parts{Passkeys: passkey.New})
}
