// Command sender is a Lambda function: it delivers the outbox (package
// outbox), triggered by the table's DynamoDB Stream filtered to new
// pending messages (template.yaml), through SES and SNS, dead-lettering
// to SQS what fails for good. It serves no route; it links only the parts
// it uses (app.Background): sending email and SMS, the dead-letter queue.
package main

import (
	"github.com/ekolek/identity/shared/app"
	"github.com/ekolek/identity/shared/deadletter"
	"github.com/ekolek/identity/shared/notify/awsnotify"
)

func main() {
	app.StartSender(app.Parts{Messenger: awsnotify.New, DeadLetters: deadletter.New})
}
