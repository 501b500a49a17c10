// Command login is a Lambda function: it serves the "login" rows of the route
// table (shared/httpapi/routes.go) behind API Gateway: the login and its
// second step by a TOTP or recovery code. It links only the parts its routes
// use (app.Parts): reading phone numbers, checking TOTP codes.
package main

import (
	"github.com/ekolek/identity/shared/app"
	"github.com/ekolek/identity/shared/phone"
	"github.com/ekolek/identity/shared/totp"
)

func main() {
	app.StartLambda("login", app.Parts{Phone: phone.Normalize, TOTP: totp.App{}})
}
