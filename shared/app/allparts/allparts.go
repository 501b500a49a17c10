// Package allparts is every optional part of the system (app.Parts): what
// the local API, ekolekctl and the tests link, since they serve or exercise
// every route. A Lambda function names only the parts its routes need.
package allparts

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/ekolek/identity/shared/app"
	"github.com/ekolek/identity/shared/deadletter"
	"github.com/ekolek/identity/shared/notify/awsnotify"
	"github.com/ekolek/identity/shared/passkey"
	"github.com/ekolek/identity/shared/password/strength"
	"github.com/ekolek/identity/shared/phone"
	"github.com/ekolek/identity/shared/totp"
	"github.com/ekolek/identity/shared/web"
)

// Parts returns every part. AWS configuration comes from the SDK's full
// loader, so shared profiles and SSO work on people's machines.
func Parts() app.Parts {
	return app.Parts{
		Phone:       phone.Normalize,
		Password:    strength.Check,
		Messenger:   awsnotify.New,
		AWSConfig:   func(ctx context.Context) (aws.Config, error) { return awsconfig.LoadDefaultConfig(ctx) },
		Pages:       web.Handler,
		TOTP:        totp.App{},
		DeadLetters: deadletter.New,
		Passkeys:    passkey.New,
	}
}
