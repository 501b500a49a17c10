// Command web is a Lambda function: it serves the "web" rows of the route
// table (shared/httpapi/routes.go), the pages, behind API Gateway (GET / and
// GET /{proxy+}: every path the API does not have). It links only the pages
// (app.Parts), and opens no store and reads no signing key.
package main

import (
	"github.com/ekolek/identity/shared/app"
	"github.com/ekolek/identity/shared/web"
)

func main() {
	app.StartLambda("web", app.Parts{Pages: web.Handler})
}
