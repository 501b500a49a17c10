package samcheck

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// Traces run from API Gateway through every function.
func TestTracingIsActive(t *testing.T) {
	tp := loadTemplate(t)
	tp.eachFunction(func(_, id string, fn *yaml.Node) {
		if got := scalar(tp.prop(fn, "Tracing")); got != "Active" {
			t.Errorf("%s: %s Tracing %q, want Active", where(fn), id, got)
		}
	})
	for _, id := range tp.ofType("AWS::Serverless::Api") {
		if got := scalar(get(get(tp.resources[id], "Properties"), "TracingEnabled")); got != "true" {
			t.Errorf("%s: TracingEnabled %q, want true", id, got)
		}
	}
}

// API Gateway's access log: JSON, with what an operator needs to follow a
// request, nothing from its headers or body beyond the user agent (so no
// cookie, token or code), in a log group whose retention is a parameter.
func TestAccessLogsAreJSONWithoutSecrets(t *testing.T) {
	tp := loadTemplate(t)
	apis := tp.ofType("AWS::Serverless::Api")
	if len(apis) != 1 {
		t.Fatalf("%d APIs", len(apis))
	}
	api := tp.resources[apis[0]]
	als := get(get(api, "Properties"), "AccessLogSetting")
	dest := get(als, "DestinationArn")
	if dest == nil || dest.Tag != "!GetAtt" || dest.Value != "ApiAccessLogGroup.Arn" {
		t.Fatalf("%s: AccessLogSetting.DestinationArn must be !GetAtt ApiAccessLogGroup.Arn", where(api))
	}
	lg := get(tp.resources["ApiAccessLogGroup"], "Properties")
	if ref(get(lg, "RetentionInDays")) != "LogRetentionDays" {
		t.Errorf("ApiAccessLogGroup: RetentionInDays must be !Ref LogRetentionDays")
	}
	format := scalar(get(als, "Format"))
	var fields map[string]string
	if err := json.Unmarshal([]byte(format), &fields); err != nil {
		t.Fatalf("access log format is not one JSON object: %v\n%s", err, format)
	}
	for _, want := range []string{"$context.requestId", "$context.identity.sourceIp", "$context.httpMethod", "$context.path", "$context.status", "$context.responseLatency", "$context.identity.userAgent"} {
		if !slices.Contains(slices.Collect(maps.Values(fields)), want) {
			t.Errorf("access log format lacks %s", want)
		}
	}
	for k, v := range fields {
		// $input is the body, $context.authorizer what a token said, and a
		// request header or query value could be a cookie or a token.
		for _, bad := range []string{"$input", "$context.authorizer", "$method.request", "$context.requestOverride", "querystring", "header"} {
			if strings.Contains(strings.ToLower(v), strings.ToLower(bad)) {
				t.Errorf("access log field %s = %s may carry request content (%s)", k, v, bad)
			}
		}
	}
	if ref(get(api, "DependsOn")) != "" || scalar(get(api, "DependsOn")) != "ApiGatewayAccount" {
		t.Errorf("%s: the Api must depend on ApiGatewayAccount (the account's logging role comes first)", where(api))
	}
}

// The functions' log groups hold security events: kept for the audit
// retention and when the stack is deleted. (The pages' function and the
// sender log none: their logs' own retention.)
func TestSecurityEventLogsAreKept(t *testing.T) {
	tp := loadTemplate(t)
	audit := scalars(get(get(tp.params, "AuditRetentionDays"), "AllowedValues"))
	logs := scalars(get(get(tp.params, "LogRetentionDays"), "AllowedValues"))
	if len(audit) == 0 || !slices.Equal(audit, logs) {
		t.Errorf("AuditRetentionDays must allow exactly CloudWatch's retention values (LogRetentionDays'), got %v", audit)
	}
	tp.eachFunction(func(f, id string, fn *yaml.Node) {
		lgID := ref(get(get(get(fn, "Properties"), "LoggingConfig"), "LogGroup"))
		lg := tp.resources[lgID]
		for _, p := range []string{"DeletionPolicy", "UpdateReplacePolicy"} {
			if got := scalar(get(lg, p)); got != "Retain" {
				t.Errorf("%s: %s %s %q, want Retain", where(lg), lgID, p, got)
			}
		}
		want := "AuditRetentionDays"
		if !logsSecurityEvents(f) {
			want = "LogRetentionDays"
		}
		if got := ref(get(get(lg, "Properties"), "RetentionInDays")); got != want {
			t.Errorf("%s: %s RetentionInDays !Ref %q, want !Ref %s", where(lg), lgID, got, want)
		}
	})
}
