package samcheck

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"gopkg.in/yaml.v3"
)

// filter is an event source mapping's FilterCriteria: a record is passed
// to the function when it matches any pattern (Lambda's event filtering,
// the operators this template uses: literal values, prefix, exists,
// anything-but).
type filter []map[string]any

// senderFilter is the FilterCriteria of the event source mapping that
// feeds SenderFunction.
func (tp *tmpl) senderFilter(t *testing.T) filter {
	t.Helper()
	var f filter
	for _, id := range tp.ofType("AWS::Lambda::EventSourceMapping") {
		p := get(tp.resources[id], "Properties")
		if ref(get(p, "FunctionName")) != "SenderFunction" {
			continue
		}
		walk(get(get(p, "FilterCriteria"), "Filters"), func(n *yaml.Node) {
			if pat := scalar(get(n, "Pattern")); pat != "" {
				var m map[string]any
				if err := json.Unmarshal([]byte(pat), &m); err != nil {
					t.Fatalf("%s: %s: a filter pattern is not a JSON object: %v", where(n), id, err)
				}
				f = append(f, m)
			}
		})
	}
	if len(f) == 0 {
		t.Fatal("template.yaml: no event source mapping with FilterCriteria feeds SenderFunction")
	}
	return f
}

// passes reports whether the filter passes r, as Lambda would: r as the
// JSON Lambda matches patterns against.
func (f filter) passes(t *testing.T, r events.DynamoDBEventRecord) bool {
	t.Helper()
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(data, &ev); err != nil {
		t.Fatal(err)
	}
	for _, p := range f {
		ok, err := matchObject(p, ev)
		if err != nil {
			t.Fatalf("filter pattern: %v", err)
		}
		if ok {
			return true
		}
	}
	return false
}

func matchObject(pattern, ev map[string]any) (bool, error) {
	for k, want := range pattern {
		got, present := ev[k]
		switch w := want.(type) {
		case map[string]any:
			sub, ok := got.(map[string]any)
			if !ok {
				return false, nil
			}
			if ok, err := matchObject(w, sub); !ok || err != nil {
				return false, err
			}
		case []any:
			ok, err := matchValue(w, got, present)
			if !ok || err != nil {
				return false, err
			}
		default:
			return false, fmt.Errorf("%q: a pattern's leaf must be an array, got %T", k, want)
		}
	}
	return true, nil
}

// matchValue: the event's value (or one element of it, when it is an
// array) is one of the pattern's values.
func matchValue(want []any, got any, present bool) (bool, error) {
	values := []any{got}
	if l, ok := got.([]any); ok {
		values = l
	}
	for _, w := range want {
		for _, v := range values {
			ok, err := matchOne(w, v, present)
			if ok || err != nil {
				return ok, err
			}
		}
	}
	return false, nil
}

func matchOne(want, got any, present bool) (bool, error) {
	op, isOp := want.(map[string]any)
	if !isOp {
		return present && fmt.Sprint(want) == fmt.Sprint(got) && got != nil, nil
	}
	for name, arg := range op {
		switch name {
		case "prefix":
			s, ok := got.(string)
			return present && ok && strings.HasPrefix(s, fmt.Sprint(arg)), nil
		case "exists":
			return present == (arg == true), nil
		case "anything-but":
			list, ok := arg.([]any)
			if !ok {
				list = []any{arg}
			}
			for _, x := range list {
				if fmt.Sprint(x) == fmt.Sprint(got) {
					return false, nil
				}
			}
			return present, nil
		default:
			return false, fmt.Errorf("operator %q is not one these checks know", name)
		}
	}
	return false, nil
}
