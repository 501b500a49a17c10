package samcheck

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/ekolek/identity/shared/account"
	"github.com/ekolek/identity/shared/app"
	"github.com/ekolek/identity/shared/audit"
	"github.com/ekolek/identity/shared/clock"
	"github.com/ekolek/identity/shared/httpapi"
	"github.com/ekolek/identity/shared/logging"
	"github.com/ekolek/identity/shared/store/embedded"
)

// logsSecurityEvents reports whether function f writes security events:
// every function but the pages' and the background ones (the sender logs
// what became of each message, no event).
func logsSecurityEvents(f string) bool {
	_, background := app.Background[f]
	return !httpapi.PagesOnly(f) && !background
}

// Every function that logs security events has a metric filter counting
// them by type and realm, and the filter's JSON paths are the ones the
// audit recorder really writes (checked on a line it writes).
func TestSecurityEventsBecomeMetrics(t *testing.T) {
	tp := loadTemplate(t)
	filters := map[string]*yaml.Node{} // log group logical id -> filter
	for _, id := range tp.ofType("AWS::Logs::MetricFilter") {
		p := get(tp.resources[id], "Properties")
		filters[ref(get(p, "LogGroupName"))] = p
	}
	var pattern string
	tp.eachFunction(func(f, id string, fn *yaml.Node) {
		if !logsSecurityEvents(f) {
			return
		}
		lg := ref(get(get(get(fn, "Properties"), "LoggingConfig"), "LogGroup"))
		p := filters[lg]
		if p == nil {
			t.Errorf("%s logs security events to %s, which has no metric filter", id, lg)
			return
		}
		mt := get(p, "MetricTransformations").Content[0]
		var dims []string
		for _, d := range get(mt, "Dimensions").Content {
			dims = append(dims, scalar(get(d, "Key"))+"="+scalar(get(d, "Value")))
		}
		if scalar(get(mt, "MetricNamespace")) != "EKOLEK" || scalar(get(mt, "MetricName")) != "SecurityEvents" ||
			!slices.Equal(dims, []string{"Type=$.security_event.type", "Realm=$.security_event.realm"}) {
			t.Errorf("%s: the filter on %s must count EKOLEK/SecurityEvents by Type and Realm, got %v", where(p), lg, dims)
		}
		pattern = scalar(get(p, "FilterPattern"))
	})

	var buf bytes.Buffer
	st, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rec := audit.NewRecorder(st, logging.New(&buf, 0), clock.NewManual(time.Now()), time.Hour)
	rec.Record(t.Context(), audit.Event{Type: audit.LoginFailed, Realm: account.Admin})
	var line struct {
		Msg   string `json:"msg"`
		Event struct {
			Type, Realm string
		} `json:"security_event"`
	}
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("security event line: %v: %s", err, buf.String())
	}
	m := regexp.MustCompile(`^\{ \$\.msg = "([^"]+)" \}$`).FindStringSubmatch(pattern)
	if m == nil || m[1] != line.Msg || line.Event.Type != "login_failed" || line.Event.Realm != "admin" {
		t.Errorf("filter pattern %q does not match the recorder's line %s", pattern, buf.String())
	}
}

// The dashboard shows what an operator reads first; its body is JSON once
// CloudFormation has substituted it.
func TestDashboardShowsTheOperatorsPage(t *testing.T) {
	tp := loadTemplate(t)
	d := tp.resources["Dashboard"]
	body := get(get(d, "Properties"), "DashboardBody")
	if scalar(get(d, "Type")) != "AWS::CloudWatch::Dashboard" || body == nil || body.Tag != "!Sub" || body.Kind != yaml.SequenceNode {
		t.Fatalf("%s: Dashboard must be an AWS::CloudWatch::Dashboard whose DashboardBody is !Sub [body, {vars}]", where(d))
	}
	text := regexp.MustCompile(`\$\{SmsSpendAlarmUsd\}`).ReplaceAllString(body.Content[0].Value, "1")
	text = regexp.MustCompile(`\$\{[A-Za-z:]+\}`).ReplaceAllString(text, "x")
	var dash struct {
		Widgets []struct {
			Properties struct {
				Title   string
				Metrics [][]any
			}
		}
	}
	if err := json.Unmarshal([]byte(text), &dash); err != nil {
		t.Fatalf("DashboardBody is not JSON: %v", err)
	}
	var shown []string
	for _, w := range dash.Widgets {
		for _, m := range w.Properties.Metrics {
			var parts []string
			for _, p := range m {
				switch v := p.(type) {
				case string:
					parts = append(parts, v)
				case map[string]any:
					if e, ok := v["expression"].(string); ok {
						parts = append(parts, e)
					}
				}
			}
			shown = append(shown, strings.Join(parts, " "))
		}
	}
	all := strings.Join(shown, "\n")
	for _, want := range []string{
		"EKOLEK SecurityEvents Type login_succeeded Realm resident", "EKOLEK SecurityEvents Type login_failed Realm resident",
		"EKOLEK SecurityEvents Type login_succeeded Realm admin", "EKOLEK SecurityEvents Type login_failed Realm admin",
		"EKOLEK SecurityEvents Type login_locked Realm resident", "EKOLEK SecurityEvents Type login_locked Realm admin",
		"AWS/ApiGateway 4XXError", "AWS/ApiGateway 5XXError",
		`MetricName="Duration"`, "'p99'", `MetricName="Errors"`,
		"AWS/DynamoDB ConsumedReadCapacityUnits", "AWS/DynamoDB ConsumedWriteCapacityUnits",
		"AWS/DynamoDB ReadThrottleEvents", "AWS/DynamoDB WriteThrottleEvents",
		"EKOLEK MessagesSent Channel email", "EKOLEK MessagesSent Channel sms", `MetricName="MessagesFailed"`,
		"AWS/SNS SMSMonthToDateSpentUSD",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("the dashboard does not show %s", want)
		}
	}
}
