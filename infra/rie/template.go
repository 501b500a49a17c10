package rie

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// TemplateEnv is the environment template.yaml gives function beyond
// Globals (the resource whose Metadata.Source is functions/<function>):
// its plain values, such as GOGC; values computed by CloudFormation (!Ref,
// !Sub) are left out. It is what `sam local invoke` would add for it, so a
// bootstrap starts here with the runtime settings it is deployed with.
func TemplateEnv(root, function string) ([]string, error) {
	data, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) == 0 {
		return nil, fmt.Errorf("template.yaml: %v", err)
	}
	resources := key(doc.Content[0], "Resources")
	for i := 0; resources != nil && i+1 < len(resources.Content); i += 2 {
		res := resources.Content[i+1]
		if src := key(key(res, "Metadata"), "Source"); src == nil || src.Value != "functions/"+function {
			continue
		}
		vars := key(key(key(res, "Properties"), "Environment"), "Variables")
		var env []string
		for j := 0; vars != nil && j+1 < len(vars.Content); j += 2 {
			// YAML's own tags are !!str, !!int…; CloudFormation's are !Ref, !Sub….
			if v := vars.Content[j+1]; v.Kind == yaml.ScalarNode && (v.Tag == "" || strings.HasPrefix(v.Tag, "!!")) {
				env = append(env, vars.Content[j].Value+"="+v.Value)
			}
		}
		return env, nil
	}
	return nil, fmt.Errorf("template.yaml has no function with Metadata.Source functions/%s", function)
}

// key is the value of k in mapping n, or nil.
func key(n *yaml.Node, k string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == k {
			return n.Content[i+1]
		}
	}
	return nil
}
