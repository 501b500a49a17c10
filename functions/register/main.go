// Command register is a Lambda function: it serves the "register" rows of the
// route table (shared/httpapi/routes.go) behind API Gateway. It links only the
// parts its routes use (app.Parts): reading phone numbers, the password
// policy.
package main

import (
	"github.com/ekolek/identity/shared/app"
	"github.com/ekolek/identity/shared/password/strength"
	"github.com/ekolek/identity/shared/phone"
)

func main() {
	app.StartLambda("register", app.Parts{Phone: phone.Normalize, Password: strength.Check})
}
