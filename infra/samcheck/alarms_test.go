package samcheck

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/ekolek/identity/shared/app"
	"github.com/ekolek/identity/shared/metrics"
	"github.com/ekolek/identity/shared/sender"
)

// watched is one CloudWatch metric an alarm evaluates: the alarm's own
// Namespace/MetricName/Dimensions, or one MetricStat of a metric-math alarm.
type watched struct {
	namespace, metric, stat string
	dims                    map[string]string // name -> dimValue
}

func (w watched) String() string {
	var d []string
	for _, k := range slices.Sorted(maps.Keys(w.dims)) {
		d = append(d, k+"="+w.dims[k])
	}
	return fmt.Sprintf("%s %s {%s} %s", w.namespace, w.metric, strings.Join(d, ", "), w.stat)
}

// dimValue renders a dimension's value for comparison: "Ref X" for !Ref X,
// "Sub s" for !Sub s, else the plain string ("" for what it cannot render).
func dimValue(n *yaml.Node) string {
	if r := ref(n); r != "" {
		return "Ref " + r
	}
	if n != nil && n.Kind == yaml.ScalarNode && n.Tag == "!GetAtt" {
		return "GetAtt " + n.Value
	}
	if n != nil && n.Kind == yaml.ScalarNode && n.Tag == "!Sub" {
		return "Sub " + n.Value
	}
	return scalar(n)
}

func dimensions(n *yaml.Node) map[string]string {
	dims := map[string]string{}
	if n == nil {
		return dims
	}
	for _, d := range n.Content {
		dims[scalar(get(d, "Name"))] = dimValue(get(d, "Value"))
	}
	return dims
}

// watches returns the metrics alarm id evaluates.
func (tp *tmpl) watches(id string) []watched {
	p := get(tp.resources[id], "Properties")
	if m := get(p, "Metrics"); m != nil {
		var out []watched
		for _, q := range m.Content {
			ms := get(q, "MetricStat")
			if ms == nil {
				continue // an expression over the others
			}
			mt := get(ms, "Metric")
			out = append(out, watched{
				namespace: scalar(get(mt, "Namespace")), metric: scalar(get(mt, "MetricName")),
				stat: scalar(get(ms, "Stat")), dims: dimensions(get(mt, "Dimensions")),
			})
		}
		return out
	}
	return []watched{{
		namespace: scalar(get(p, "Namespace")), metric: scalar(get(p, "MetricName")),
		stat: scalar(get(p, "Statistic")), dims: dimensions(get(p, "Dimensions")),
	}}
}

// TestAlarms: the template alarms on what operations must see (errors,
// throttles, 5XX answers, DynamoDB throttling, SMS spend), on metrics that
// exist with the dimensions CloudWatch publishes them under (an alarm on a
// metric/dimension combination nobody publishes is valid CloudFormation
// that never fires):
//
//   - every function (of the route table, and background): AWS/Lambda
//     Errors and Throttles on FunctionName (a throttled invocation is not
//     an error); a function an event source mapping feeds from a stream,
//     IteratorAge (Maximum) on FunctionName (it falls behind);
//   - every SQS queue (the dead letters): ApproximateNumberOfMessagesVisible
//     (Maximum) on QueueName;
//   - the API: AWS/ApiGateway 5XXError on the REST API's name and stage;
//   - every DynamoDB table: ReadThrottleEvents and WriteThrottleEvents on
//     TableName (the base table only), and on TableName +
//     GlobalSecondaryIndexName for each of its global secondary indexes;
//   - SMS spend: AWS/SNS SMSMonthToDateSpentUSD (account-wide, no
//     dimensions; a running total, so Maximum, not Sum);
//   - message delivery failures: EKOLEK MessagesFailed with no dimensions,
//     the total function sender's embedded-metric lines publish.
//
// Every alarm notifies the optional alarm topic and treats missing data
// (no traffic, no throttling) as OK.
func TestAlarms(t *testing.T) {
	for _, p := range alarmProblems(loadTemplate(t)) {
		t.Error(p)
	}
}

// TestAlarmChecksNoticeADeletion: deleting any one alarm on a metric the
// checks require (each is the only one on its metric and dimensions) makes
// alarmProblems report it.
func TestAlarmChecksNoticeADeletion(t *testing.T) {
	tp := loadTemplate(t)
	if p := alarmProblems(tp); len(p) > 0 {
		t.Skip("the template's alarms are incomplete already (TestAlarms)")
	}
	required := map[string]bool{"Errors": true, "Throttles": true, "5XXError": true, "ReadThrottleEvents": true, "WriteThrottleEvents": true,
		"SMSMonthToDateSpentUSD": true, "IteratorAge": true, "ApproximateNumberOfMessagesVisible": true, sender.MetricFailed: true}
	n := 0
	for _, id := range tp.ofType("AWS::CloudWatch::Alarm") {
		if !slices.ContainsFunc(tp.watches(id), func(w watched) bool { return required[w.metric] }) {
			continue
		}
		n++
		without := &tmpl{resources: maps.Clone(tp.resources), globals: tp.globals, params: tp.params}
		delete(without.resources, id)
		without.ids = slices.DeleteFunc(slices.Clone(tp.ids), func(x string) bool { return x == id })
		if p := alarmProblems(without); len(p) == 0 {
			t.Errorf("without alarm %s the alarm checks find nothing missing", id)
		}
	}
	// 17 functions x (errors, throttles), the API, the table and GSI1 x
	// (read, write), SMS, the sender's iterator age, the dead letters, the
	// delivery failures.
	if want := 2*len(app.Functions()) + 1 + 4 + 1 + 1 + 1 + 1; n != want {
		t.Errorf("%d alarms on required metrics, want %d", n, want)
	}
}

// notifiesAlarmTopic reports whether actions is exactly
// [!If [CreateAlarmTopic, !Ref AlarmTopic, !Ref AlarmTopicArn]]: the stack's
// own topic, or the one the operator named.
func notifiesAlarmTopic(actions *yaml.Node) bool {
	if actions == nil || actions.Kind != yaml.SequenceNode || len(actions.Content) != 1 {
		return false
	}
	c := actions.Content[0]
	return c.Tag == "!If" && len(c.Content) == 3 && scalar(c.Content[0]) == "CreateAlarmTopic" &&
		ref(c.Content[1]) == "AlarmTopic" && ref(c.Content[2]) == "AlarmTopicArn"
}

// TestAlarmTopicReachesSomeone: without AlarmTopicArn the stack makes its
// own topic (and subscribes AlarmEmail when given); with it, none.
func TestAlarmTopicReachesSomeone(t *testing.T) {
	tp := loadTemplate(t)
	topic := tp.resources["AlarmTopic"]
	if scalar(get(topic, "Type")) != "AWS::SNS::Topic" || scalar(get(topic, "Condition")) != "CreateAlarmTopic" {
		t.Fatalf("%s: AlarmTopic must be an AWS::SNS::Topic with Condition CreateAlarmTopic", where(topic))
	}
	sub := tp.resources["AlarmEmailSubscription"]
	sp := get(sub, "Properties")
	if scalar(get(sub, "Type")) != "AWS::SNS::Subscription" || scalar(get(sub, "Condition")) != "HasAlarmEmail" ||
		ref(get(sp, "TopicArn")) != "AlarmTopic" || scalar(get(sp, "Protocol")) != "email" || ref(get(sp, "Endpoint")) != "AlarmEmail" {
		t.Fatalf("%s: AlarmEmailSubscription must subscribe !Ref AlarmEmail by email to AlarmTopic, with Condition HasAlarmEmail", where(sub))
	}
	for _, p := range []string{"AlarmTopicArn", "AlarmEmail"} {
		if d := get(get(tp.params, p), "Default"); d == nil || d.Value != "" {
			t.Errorf("parameter %s must default to empty", p)
		}
	}
}

// The loops the template writes are expanded the way CloudFormation
// expands them: the per-function alarms come out one per function, each
// on its own function.
func TestForEachExpandsPerFunction(t *testing.T) {
	tp := loadTemplate(t)
	for _, f := range app.Functions() {
		fn := logicalID(f)
		name := strings.TrimSuffix(fn, "Function")
		for _, metric := range []string{"Errors", "Throttles"} {
			id := name + metric + "Alarm"
			w := tp.watches(id)
			if len(w) != 1 || w[0].metric != metric || w[0].dims["FunctionName"] != "Ref "+fn {
				t.Errorf("%s: %v, want %s on FunctionName = !Ref %s", id, w, metric, fn)
			}
		}
	}
	for _, id := range tp.ids {
		if strings.HasPrefix(id, forEachPrefix) || strings.Contains(id, "${") {
			t.Errorf("resource %q left unexpanded", id)
		}
	}
}

// alarmProblems is what TestAlarms reports about tp.
func alarmProblems(tp *tmpl) []string {
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	ids := tp.ofType("AWS::CloudWatch::Alarm")
	all := map[string][]watched{}
	for _, id := range ids {
		all[id] = tp.watches(id)
	}

	// want reports when no alarm watches namespace/metric with exactly dims,
	// and when one does with another statistic.
	want := func(what, namespace, metric, stat string, dims map[string]string) {
		w := watched{namespace: namespace, metric: metric, stat: stat, dims: dims}
		found := false
		for _, id := range ids {
			for _, got := range all[id] {
				if got.namespace == namespace && got.metric == metric && maps.Equal(got.dims, dims) {
					found = true
					if got.stat != stat {
						fail("%s: alarm %s watches %s with statistic %q, want %s", where(tp.resources[id]), id, what, got.stat, stat)
					}
				}
			}
		}
		if !found {
			fail("no alarm on %s: want an AWS::CloudWatch::Alarm on %s", what, w)
		}
	}

	tp.eachFunction(func(f, id string, _ *yaml.Node) {
		fn := map[string]string{"FunctionName": "Ref " + id}
		want(f+" errors", "AWS/Lambda", "Errors", "Sum", fn)
		want(f+" throttles", "AWS/Lambda", "Throttles", "Sum", fn)
	})

	apis := tp.ofType("AWS::Serverless::Api")
	if len(apis) == 1 { // otherwise reported by TestApiEvents
		api := get(tp.resources[apis[0]], "Properties")
		name, stage := dimValue(get(api, "Name")), dimValue(get(api, "StageName"))
		if name == "" || stage == "" {
			fail("%s: %s needs a Name and a StageName (plain, !Sub or !Ref) for its 5XXError alarm to name", where(tp.resources[apis[0]]), apis[0])
		}
		want("API 5xx", "AWS/ApiGateway", "5XXError", "Sum", map[string]string{"ApiName": name, "Stage": stage})
	}

	tables := tp.ofType("AWS::DynamoDB::Table")
	if len(tables) == 0 {
		fail("template.yaml has no AWS::DynamoDB::Table")
	}
	for _, tb := range tables {
		table := map[string]string{"TableName": "Ref " + tb}
		want(tb+" read throttles", "AWS/DynamoDB", "ReadThrottleEvents", "Sum", table)
		want(tb+" write throttles", "AWS/DynamoDB", "WriteThrottleEvents", "Sum", table)
		gsis := get(get(tp.resources[tb], "Properties"), "GlobalSecondaryIndexes")
		if gsis == nil {
			continue
		}
		for _, g := range gsis.Content {
			index := scalar(get(g, "IndexName"))
			dims := map[string]string{"TableName": "Ref " + tb, "GlobalSecondaryIndexName": index}
			want(tb+" "+index+" read throttles", "AWS/DynamoDB", "ReadThrottleEvents", "Sum", dims)
			want(tb+" "+index+" write throttles", "AWS/DynamoDB", "WriteThrottleEvents", "Sum", dims)
		}
	}

	want("SMS spend", "AWS/SNS", "SMSMonthToDateSpentUSD", "Maximum", map[string]string{})
	// Function sender's embedded-metric lines (their dimensionless total).
	want("message delivery failures", metrics.Namespace, sender.MetricFailed, "Sum", map[string]string{})

	for _, id := range tp.ofType("AWS::Lambda::EventSourceMapping") {
		p := get(tp.resources[id], "Properties")
		if fn, src := ref(get(p, "FunctionName")), get(p, "EventSourceArn"); fn != "" && src != nil && strings.HasSuffix(src.Value, ".StreamArn") {
			want(fn+" iterator age", "AWS/Lambda", "IteratorAge", "Maximum", map[string]string{"FunctionName": "Ref " + fn})
		}
	}
	for _, q := range tp.ofType("AWS::SQS::Queue") {
		want(q+" depth", "AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", map[string]string{"QueueName": "GetAtt " + q + ".QueueName"})
	}

	// Metrics DynamoDB publishes only with an Operation dimension.
	perOperation := map[string]bool{"ThrottledRequests": true, "SuccessfulRequestLatency": true, "SystemErrors": true}
	for _, id := range ids {
		res := tp.resources[id]
		for _, w := range all[id] {
			if w.namespace == "AWS/DynamoDB" && perOperation[w.metric] && w.dims["Operation"] == "" {
				fail("%s: alarm %s watches %s, which DynamoDB publishes only per Operation: it would never fire", where(res), id, w)
			}
		}
		p := get(res, "Properties")
		if tmd := scalar(get(p, "TreatMissingData")); tmd != "notBreaching" {
			fail("%s: alarm %s: TreatMissingData is %q, want notBreaching (no data is no traffic or no throttling)", where(res), id, tmd)
		}
		for _, prop := range []string{"AlarmActions", "OKActions"} {
			if !notifiesAlarmTopic(get(p, prop)) {
				fail("%s: alarm %s: %s must be [!If [CreateAlarmTopic, !Ref AlarmTopic, !Ref AlarmTopicArn]]: someone must hear of it", where(res), id, prop)
			}
		}
	}
	return problems
}
