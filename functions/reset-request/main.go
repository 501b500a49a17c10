// Command reset-request is a Lambda function: it serves the "reset-request"
// rows of the route table (shared/httpapi/routes.go) behind API Gateway. It
// links only the parts its routes use (app.Parts): reading phone numbers.
package main

import (
	"github.com/ekolek/identity/shared/app"
	"github.com/ekolek/identity/shared/phone"
)

func main() {
	app.StartLambda("reset-request", app.Parts{Phone: phone.Normalize})
}
