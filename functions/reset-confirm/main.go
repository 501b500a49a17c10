// Command reset-confirm is a Lambda function: it serves the "reset-confirm"
// rows of the route table (shared/httpapi/routes.go) behind API Gateway. It
// links only the parts its routes use (app.Parts): the password policy.
package main

import (
	"github.com/ekolek/identity/shared/app"
	"github.com/ekolek/identity/shared/password/strength"
)

func main() {
	app.StartLambda("reset-confirm", app.Parts{Password: strength.Check})
}
