package app

import (
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ekolek/identity/shared/clock"
	"github.com/ekolek/identity/shared/config"
	"github.com/ekolek/identity/shared/notify"
	"github.com/ekolek/identity/shared/outbox"
	"github.com/ekolek/identity/shared/store/backend"
)

// openNotifier returns what sends messages as cfg names it
// (EKOLEK_NOTIFIER): the local outbox on the store, which is then also
// returned for GET /dev/outbox to show, or the Messenger part through AWS.
// A program built without a Messenger gets no notifier for "aws" (nil):
// it sends nothing, and Handler refuses the functions whose routes send.
func openNotifier(cfg config.Config, st backend.Store, c clock.Clock, messenger func(aws.Config, string) notify.Notifier, loadAWS func() (aws.Config, error)) (notify.Notifier, outbox.Store, error) {
	switch {
	case cfg.Notifier == "outbox":
		return outbox.New(st, c), st, nil
	case messenger != nil:
		awsCfg, err := loadAWS()
		if err != nil {
			return nil, nil, err
		}
		return messenger(awsCfg, cfg.EmailFrom), nil, nil
	}
	return nil, nil, nil
}
