package samcheck

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// forEachPrefix starts the key of an AWS::LanguageExtensions loop among the
// resources: Fn::ForEach::<Loop>: [Identifier, [values...], {OutputKey: value}].
const forEachPrefix = "Fn::ForEach::"

// expandForEach replaces each Fn::ForEach loop in the Resources mapping
// res by the resources it makes, in place, the way CloudFormation's
// language extensions do for what this template uses: ${Identifier} and
// &{Identifier} in the output keys and in !Sub strings, and !Ref
// Identifier, replaced by each value in turn. A !Ref of a !Sub that names
// no variable any more becomes a plain !Ref, so the checks read it like any
// other. It returns an error for a loop of another shape.
func expandForEach(res *yaml.Node) error {
	var out []*yaml.Node
	for i := 0; i+1 < len(res.Content); i += 2 {
		k, v := res.Content[i], res.Content[i+1]
		if !strings.HasPrefix(k.Value, forEachPrefix) {
			out = append(out, k, v)
			continue
		}
		if v.Kind != yaml.SequenceNode || len(v.Content) != 3 || v.Content[0].Kind != yaml.ScalarNode ||
			v.Content[1].Kind != yaml.SequenceNode || v.Content[2].Kind != yaml.MappingNode {
			return fmt.Errorf("template.yaml:%d: %s is not [Identifier, [values], {OutputKey: value}]", k.Line, k.Value)
		}
		id, body := v.Content[0].Value, v.Content[2]
		for _, item := range v.Content[1].Content {
			if item.Kind != yaml.ScalarNode {
				return fmt.Errorf("template.yaml:%d: %s: a value that is not a plain string", item.Line, k.Value)
			}
			for j := 0; j+1 < len(body.Content); j += 2 {
				key := *body.Content[j]
				key.Value = substitute(key.Value, id, item.Value)
				out = append(out, &key, instantiate(body.Content[j+1], id, item.Value))
			}
		}
	}
	res.Content = out
	return nil
}

func substitute(s, id, value string) string {
	return strings.NewReplacer("${"+id+"}", value, "&{"+id+"}", value).Replace(s)
}

// instantiate copies n with id replaced by value.
func instantiate(n *yaml.Node, id, value string) *yaml.Node {
	c := *n
	c.Content = nil
	for _, child := range n.Content {
		c.Content = append(c.Content, instantiate(child, id, value))
	}
	switch {
	case c.Kind == yaml.ScalarNode && c.Tag == "!Sub":
		c.Value = substitute(c.Value, id, value)
	case c.Kind == yaml.ScalarNode && c.Tag == "!Ref" && c.Value == id:
		c.Tag, c.Value = "", value
	case c.Kind == yaml.MappingNode && len(c.Content) == 2 && c.Content[0].Value == "Fn::Sub" && c.Content[1].Kind == yaml.ScalarNode:
		c.Content[1].Value = substitute(c.Content[1].Value, id, value)
	}
	// !Ref {Fn::Sub: "LoginFunction"} is !Ref LoginFunction.
	if c.Tag == "!Ref" && c.Kind == yaml.MappingNode && len(c.Content) == 2 && c.Content[0].Value == "Fn::Sub" &&
		!strings.Contains(c.Content[1].Value, "${") {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!Ref", Value: c.Content[1].Value, Line: c.Line, Column: c.Column}
	}
	return &c
}
