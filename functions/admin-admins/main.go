// Command admin-admins is a Lambda function: it serves the "admin-admins" rows
// of the route table (shared/httpapi/routes.go) behind API Gateway. It links
// only the parts its routes use (app.Parts): sending email and SMS.
package main

import (
	"github.com/ekolek/identity/shared/app"
	"github.com/ekolek/identity/shared/notify/awsnotify"
)

func main() {
	app.StartLambda("admin-admins", app.Parts{Messenger: awsnotify.New})
}
