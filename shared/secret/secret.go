// Package secret keeps the platform's keys in AWS Secrets Manager: the
// signing key, whose versions rotate through Secrets Manager's own staging
// labels (AWSCURRENT signs, AWSPREVIOUS still verifies), and the data key,
// which keys what is stored (code HMACs, encrypted second factors and
// messages) and therefore never rotates with the signing key.
package secret

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/ekolek/identity/shared/config"
	"github.com/ekolek/identity/shared/token"
)

// Staging labels Secrets Manager gives a secret's versions.
const (
	Current  = "AWSCURRENT"
	Previous = "AWSPREVIOUS"
	Pending  = "AWSPENDING"
)

// API is the part of the Secrets Manager client this package uses.
type API interface {
	GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	PutSecretValue(context.Context, *secretsmanager.PutSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
	UpdateSecretVersionStage(context.Context, *secretsmanager.UpdateSecretVersionStageInput, ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretVersionStageOutput, error)
	DescribeSecret(context.Context, *secretsmanager.DescribeSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
}

// Key reads the version of secret id labelled stage as a key
// (config.KeyFromSecret). errors.Is(err, ErrNoVersion) when no version has
// that label (no AWSPREVIOUS before the first rotation).
func Key(ctx context.Context, sm API, id, stage string) ([]byte, error) {
	out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id), VersionStage: aws.String(stage)})
	var notFound *types.ResourceNotFoundException
	if errors.As(err, &notFound) {
		return nil, fmt.Errorf("%s of %s: %w", stage, id, ErrNoVersion)
	}
	if err != nil {
		return nil, err
	}
	k, err := config.KeyFromSecret(aws.ToString(out.SecretString))
	if err != nil {
		return nil, fmt.Errorf("%s of %s: %w", stage, id, err)
	}
	return k, nil
}

// ErrNoVersion: the secret has no version with that staging label.
var ErrNoVersion = errors.New("secret: no such version")

// SigningKeys is the token.Source of a signing-key secret: its current
// version, and its previous one when there is one. Both are read at once,
// so a reading waits for one round trip, not two.
func SigningKeys(sm API, id string) token.Source {
	return func(ctx context.Context) ([]byte, [][]byte, error) {
		type result struct {
			key []byte
			err error
		}
		prev := make(chan result, 1)
		go func() {
			k, err := Key(ctx, sm, id, Previous)
			prev <- result{k, err}
		}()
		current, err := Key(ctx, sm, id, Current)
		p := <-prev
		if err != nil {
			return nil, nil, err
		}
		if errors.Is(p.err, ErrNoVersion) {
			return current, nil, nil
		}
		if p.err != nil {
			// The previous version is what keeps tokens of instances that
			// have not read the new key yet valid: a reading without it
			// would log them out, so it fails and the keys in use stay.
			return nil, nil, p.err
		}
		return current, [][]byte{p.key}, nil
	}
}

// MinRotationAge is how long a signing key must have been current before
// Rotate replaces it (unless forced): a session token lives at most a day
// (the longest session lifetime by default), and a token under a key two
// rotations old is refused, so rotating more often than that would log
// people out.
const MinRotationAge = 24 * time.Hour

// Rotation is what Rotate did: the key ids (token.KeyID) before and after,
// and the new version's id.
type Rotation struct {
	OldKeyID, NewKeyID, NewVersionID string
}

// ErrTooSoon: the current version is younger than the minimum age.
var ErrTooSoon = errors.New("secret: the current signing key is too young to rotate")

// Rotate gives secret id a new random signing key the way Secrets Manager's
// rotation does: the new version is written as AWSPENDING, read back, and
// then made AWSCURRENT, which moves AWSPREVIOUS to the version that was
// current (so it keeps verifying) and retires the one before. minAge
// refuses (ErrTooSoon) while the current version is younger (0: no check).
func Rotate(ctx context.Context, sm API, id string, now time.Time, minAge time.Duration) (Rotation, error) {
	desc, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(id)})
	if err != nil {
		return Rotation{}, err
	}
	currentVersion := versionWith(desc.VersionIdsToStages, Current)
	if currentVersion == "" {
		return Rotation{}, fmt.Errorf("secret %s has no %s version", id, Current)
	}
	cur, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id), VersionStage: aws.String(Current)})
	if err != nil {
		return Rotation{}, err
	}
	if created := aws.ToTime(cur.CreatedDate); minAge > 0 && !created.IsZero() && now.Sub(created) < minAge {
		return Rotation{}, fmt.Errorf("%w: current since %s, rotate after %s", ErrTooSoon, created.UTC().Format(time.RFC3339), created.Add(minAge).UTC().Format(time.RFC3339))
	}
	oldKey, err := config.KeyFromSecret(aws.ToString(cur.SecretString))
	if err != nil {
		return Rotation{}, fmt.Errorf("%s of %s: %w", Current, id, err)
	}

	// A pending version left by a rotation that stopped half-way is
	// replaced: it never signed anything.
	if stale := versionWith(desc.VersionIdsToStages, Pending); stale != "" {
		if _, err := sm.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
			SecretId: aws.String(id), VersionStage: aws.String(Pending), RemoveFromVersionId: aws.String(stale),
		}); err != nil {
			return Rotation{}, err
		}
	}
	raw := make([]byte, 48)
	if _, err := rand.Read(raw); err != nil {
		return Rotation{}, err
	}
	newKey := base64.StdEncoding.EncodeToString(raw)
	put, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(id), SecretString: aws.String(newKey), VersionStages: []string{Pending},
	})
	if err != nil {
		return Rotation{}, err
	}
	newVersion := aws.ToString(put.VersionId)
	readBack, err := Key(ctx, sm, id, Pending)
	if err != nil {
		return Rotation{}, err
	}
	if token.KeyID(readBack) != token.KeyID(raw) {
		return Rotation{}, fmt.Errorf("secret %s: the pending version does not read back as written", id)
	}
	if _, err := sm.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
		SecretId: aws.String(id), VersionStage: aws.String(Current),
		MoveToVersionId: aws.String(newVersion), RemoveFromVersionId: aws.String(currentVersion),
	}); err != nil {
		return Rotation{}, err
	}
	if _, err := sm.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
		SecretId: aws.String(id), VersionStage: aws.String(Pending), RemoveFromVersionId: aws.String(newVersion),
	}); err != nil {
		return Rotation{}, err
	}
	if err := ensurePrevious(ctx, sm, id, currentVersion); err != nil {
		return Rotation{}, err
	}
	return Rotation{OldKeyID: token.KeyID(oldKey), NewKeyID: token.KeyID(raw), NewVersionID: newVersion}, nil
}

// ensurePrevious makes sure AWSPREVIOUS is on version: Secrets Manager
// moves it there itself when AWSCURRENT moves; an implementation that does
// not (an emulator) gets it moved explicitly, which the real service
// accepts too.
func ensurePrevious(ctx context.Context, sm API, id, version string) error {
	desc, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(id)})
	if err != nil {
		return err
	}
	holder := versionWith(desc.VersionIdsToStages, Previous)
	if holder == version {
		return nil
	}
	in := &secretsmanager.UpdateSecretVersionStageInput{
		SecretId: aws.String(id), VersionStage: aws.String(Previous), MoveToVersionId: aws.String(version),
	}
	if holder != "" {
		in.RemoveFromVersionId = aws.String(holder)
	}
	_, err = sm.UpdateSecretVersionStage(ctx, in)
	return err
}

// versionWith returns the version id labelled stage, or "".
func versionWith(stages map[string][]string, stage string) string {
	for id, labels := range stages {
		if slices.Contains(labels, stage) {
			return id
		}
	}
	return ""
}
