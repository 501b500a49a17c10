// Package awsnotify sends messages through AWS: email with SES, SMS with SNS.
// It is apart from the adapters so that only the functions that send
// messages link the two SDK clients (app.Parts.Messenger).
package awsnotify

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/ekolek/identity/shared/awsenv"
	"github.com/ekolek/identity/shared/notify"
	sesnotify "github.com/ekolek/identity/shared/notify/ses"
	snsnotify "github.com/ekolek/identity/shared/notify/sns"
)

// SenderID is the name SMS come from where the destination country shows
// one.
const SenderID = "EKOLEK"

// New returns the notifier that mails from emailFrom and texts as SenderID.
func New(c aws.Config, emailFrom string) notify.Notifier {
	return notify.Router{
		Email: sesnotify.New(ses.NewFromConfig(awsenv.For(c, "SES")), emailFrom),
		SMS:   snsnotify.New(sns.NewFromConfig(awsenv.For(c, "SNS")), snsnotify.Options{SenderID: SenderID}),
	}
}
