// Command ekolekctl is the operator CLI. It uses the same configuration as
// the functions, so it works on the embedded store and on a DynamoDB table.
//
//	ekolekctl create-admin --username U --email E --full-name N --role R [--barangay B ...] --password-stdin
//	ekolekctl create-table
//	ekolekctl rotate-signing-key [--secret-id ARN] [--force]
//	ekolekctl totp-code < secret
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/app"
	"github.com/ekolek/identity/shared/app/allparts"
	"github.com/ekolek/identity/shared/awsenv"
	"github.com/ekolek/identity/shared/config"
	"github.com/ekolek/identity/shared/logging"
	"github.com/ekolek/identity/shared/password"
	"github.com/ekolek/identity/shared/secret"
	"github.com/ekolek/identity/shared/store/dynamo"
	"github.com/ekolek/identity/shared/token"
	"github.com/ekolek/identity/shared/totp"
)

const usage = `usage:
  ekolekctl create-admin --username U --email E --full-name N --role R [--barangay B ...] --password-stdin
  ekolekctl create-table
  ekolekctl rotate-signing-key [--secret-id ARN] [--force]
  ekolekctl totp-code < secret   (the code an authenticator app shows now for a base32 secret)

Configuration comes from the same EKOLEK_* environment variables as the functions`

func main() {
	err := run(context.Background(), os.Args[1:], os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ekolekctl:", err)
		os.Exit(1)
	}
}

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func run(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New(strings.TrimSpace(usage))
	}
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return err
	}
	switch args[0] {
	case "create-admin":
		return createAdmin(ctx, cfg, args[1:], stdin, stdout)
	case "create-table":
		return createTable(ctx, cfg, stdout)
	case "rotate-signing-key":
		return rotateSigningKey(ctx, cfg, args[1:], stdout)
	case "totp-code":
		return totpCode(args[1:], stdin, stdout, time.Now())
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", args[0], usage)
}

func createAdmin(ctx context.Context, cfg config.Config, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("create-admin", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var in account.NewAdmin
	var barangays stringList
	fs.StringVar(&in.Username, "username", "", "login name")
	fs.StringVar(&in.Email, "email", "", "email address")
	fs.StringVar(&in.FullName, "full-name", "", "full name")
	fs.StringVar(&in.Role, "role", "", "super_admin | operations_manager | content_rewards_manager | security_analyst")
	fs.Var(&barangays, "barangay", "assigned barangay (repeatable)")
	pwStdin := fs.Bool("password-stdin", false, "read the password from standard input")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w\n%s", err, usage)
	}
	if !*pwStdin {
		return errors.New("--password-stdin is required: the password is read from standard input, never from the command line")
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("reading the password: %w", err)
	}
	in.Password = strings.TrimRight(line, "\r\n")
	if in.Password == "" {
		return errors.New("no password on standard input")
	}
	in.Barangays = barangays

	a, err := app.Open(ctx, cfg, logging.New(io.Discard, slog.LevelError), app.Options{Parts: allparts.Parts()})
	if err != nil {
		return err
	}
	defer a.Close()
	acct, err := a.Accounts.CreateAdmin(ctx, in)
	var weak *password.WeakError
	var invalid *account.ValidationError
	switch {
	case errors.As(err, &weak):
		return fmt.Errorf("password refused (%s): use 12-128 characters that are hard to guess, e.g. several unrelated words", strings.Join(weak.Reasons, ", "))
	case errors.As(err, &invalid):
		var parts []string
		for f, why := range invalid.Fields {
			flag := strings.ReplaceAll(f, "_", "-")
			if f == "barangays" {
				flag = "barangay" // one flag per barangay
			}
			parts = append(parts, "--"+flag+": "+why)
		}
		return errors.New(strings.Join(parts, "; "))
	case errors.Is(err, account.ErrAlreadyRegistered):
		return errors.New("an admin with this username or email already exists")
	case err != nil:
		return err
	}
	fmt.Fprintf(stdout, "created admin %s (%s, role %s, id %s)\n", acct.Username, acct.Email, acct.Role, acct.ID)
	return nil
}

func createTable(ctx context.Context, cfg config.Config, stdout io.Writer) error {
	if cfg.Store != "dynamodb" {
		return errors.New("create-table needs EKOLEK_STORE=dynamodb and EKOLEK_TABLE")
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	if err := dynamo.CreateTable(ctx, dynamodb.NewFromConfig(awsCfg), cfg.Table); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "table %s is ready\n", cfg.Table)
	return nil
}

// rotateSigningKey gives the signing-key secret a new version through
// Secrets Manager's staging labels (secret.Rotate). It refuses while the
// current key is younger than secret.MinRotationAge unless --force: two
// rotations within a session's lifetime would log out the sessions signed
// before the first.
func rotateSigningKey(ctx context.Context, cfg config.Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("rotate-signing-key", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	id := fs.String("secret-id", cfg.SigningKeySecretARN, "the signing-key secret (default EKOLEK_SIGNING_KEY_SECRET_ARN)")
	force := fs.Bool("force", false, "rotate even if the current key is younger than a day")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *id == "" {
		return errors.New("rotate-signing-key needs --secret-id or EKOLEK_SIGNING_KEY_SECRET_ARN")
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	minAge := secret.MinRotationAge
	if *force {
		minAge = 0
	}
	r, err := secret.Rotate(ctx, secretsmanager.NewFromConfig(awsenv.For(awsCfg, "SECRETS_MANAGER")), *id, time.Now(), minAge)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "signing key rotated: key %s is current (version %s), key %s is previous and still verifies until the next rotation;\n"+
		"running functions sign with the new key within %v\n", r.NewKeyID, r.NewVersionID, r.OldKeyID, token.MaxAge)
	return nil
}

// totpCode prints the code an authenticator app shows at now for the
// base32 secret on standard input (as POST mfa/totp answered it): for a
// walk-through or a test by hand without a phone. The secret is read from
// standard input, never from the command line, like a password.
func totpCode(args []string, stdin io.Reader, stdout io.Writer, now time.Time) error {
	if len(args) > 0 {
		return fmt.Errorf("totp-code takes no arguments: give the secret on standard input\n%s", usage)
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 1024)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("reading the secret: %w", err)
	}
	secret := strings.ToUpper(strings.Join(strings.Fields(line), ""))
	if secret == "" {
		return errors.New("no secret on standard input")
	}
	code, err := totp.Code(secret, now)
	if err != nil {
		return fmt.Errorf("not a base32 TOTP secret: %w", err)
	}
	fmt.Fprintln(stdout, code)
	return nil
}
