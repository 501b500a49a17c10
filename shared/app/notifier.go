package app

import (
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ekolek/identity/shared/config"
	"github.com/ekolek/identity/shared/notify"
	"github.com/ekolek/identity/shared/outbox"
	"github.com/ekolek/identity/shared/sender"
)

// openNotifier returns what the sender delivers messages with, as cfg
// names it (EKOLEK_NOTIFIER): outbox.Keep, which sends nothing (the
// message stays in the outbox for GET /dev/outbox), or the Messenger part
// through AWS. A program built without a Messenger gets no notifier for
// "aws" (nil): it delivers nothing, and Sender refuses to start. No
// request needs one: requests only queue messages.
func openNotifier(cfg config.Config, messenger func(aws.Config, string) notify.Notifier, loadAWS func() (aws.Config, error)) (notify.Notifier, error) {
	switch {
	case cfg.Notifier == "outbox":
		return outbox.Keep{}, nil
	case messenger != nil:
		awsCfg, err := loadAWS()
		if err != nil {
			return nil, err
		}
		return messenger(awsCfg, cfg.EmailFrom), nil
	}
	return nil, nil
}

// openDeadLetters returns the dead-letter queue cfg names
// (EKOLEK_DEAD_LETTER_QUEUE_URL) through the DeadLetters part, or nil
// without either: the sender then only marks a message failed.
func openDeadLetters(cfg config.Config, deadLetters func(aws.Config, string) sender.DeadLetters, loadAWS func() (aws.Config, error)) (sender.DeadLetters, error) {
	if deadLetters == nil || cfg.DeadLetterQueueURL == "" {
		return nil, nil
	}
	awsCfg, err := loadAWS()
	if err != nil {
		return nil, err
	}
	return deadLetters(awsCfg, cfg.DeadLetterQueueURL), nil
}
