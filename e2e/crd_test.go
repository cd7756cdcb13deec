//go:build linux && e2e

package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/e2e/framework"
)

// crdYAML is a namespaced Widget with a printer column, a default and a
// bounded integer, in its own group per kubectl.
func crdYAML(group string) string {
	return `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.` + group + `
spec:
  group: ` + group + `
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
  versions:
  - name: v1
    served: true
    storage: true
    additionalPrinterColumns:
    - {name: Replicas, type: integer, jsonPath: .spec.replicas}
    - {name: Color, type: string, jsonPath: .spec.color}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              replicas: {type: integer, minimum: 0}
              color: {type: string, default: blue}
`
}

func widgetYAML(group, name, spec string) string {
	return "apiVersion: " + group + "/v1\nkind: Widget\nmetadata:\n  name: " + name + "\nspec: " + spec + "\n"
}

// CustomResourceDefinitions with real kubectls: apply a definition, wait
// for Established, apply a custom resource and get it with its printer
// columns, apply it again changed and get it by its short name; an invalid one is refused with the field path, an unknown
// field is refused by kubectl's default strict validation and pruned with
// --validate=warn; deleting the definition deletes its objects (the same
// definition created again finds none).
func TestCRDWithKubectl(t *testing.T) {
	requireAPIServerDeps(t)
	node := framework.NewLab(t)
	srv := framework.StartAPIServer(t, node, "--disable-agent")
	for i, bin := range kubectls {
		t.Run(filepath.Base(bin), func(t *testing.T) {
			k := &kctl{t: t, srv: srv, bin: bin, kubeconfig: srv.Kubeconfig(), dir: t.TempDir()}
			crdScenario(t, k, fmt.Sprintf("e2e%d.example.com", i))
		})
	}
}

func crdScenario(t *testing.T, k *kctl, group string) {
	crd := "customresourcedefinition.apiextensions.k8s.io/widgets." + group
	if out := k.ok(crdYAML(group), "apply", "-f", "-"); squash(out) != crd+" created" {
		t.Fatalf("apply crd: %q", out)
	}
	if out := k.ok("", "wait", "--for", "condition=established", "--timeout=30s", "crd/widgets."+group); squash(out) != crd+" condition met" {
		t.Fatalf("wait: %q", out)
	}
	if out := squash(k.ok("", "get", "crd", "widgets."+group)); !strings.HasPrefix(out, "NAME CREATED AT widgets."+group+" ") || !strings.HasSuffix(out, "Z") {
		t.Errorf("get crd: %q", out)
	}
	res := "widgets." + group
	framework.Eventually(t, 20*time.Second, 200*time.Millisecond, "kubectl knows widgets", func() error {
		_, errOut, err := k.run("", "get", res)
		if err != nil {
			return fmt.Errorf("%v: %s", err, errOut)
		}
		return nil
	})
	if out := k.ok(widgetYAML(group, "w1", "{replicas: 3}"), "apply", "-f", "-"); squash(out) != "widget."+group+"/w1 created" {
		t.Fatalf("apply widget: %q", out)
	}
	if out := k.ok("", "get", res, "w1"); squash(out) != "NAME REPLICAS COLOR w1 3 blue" {
		t.Errorf("get with printer columns: %q", out)
	}
	if out := k.ok(widgetYAML(group, "w1", "{replicas: 4}"), "apply", "-f", "-"); squash(out) != "widget."+group+"/w1 configured" {
		t.Errorf("apply again: %q", out)
	}
	if out := k.ok("", "get", "wd", "w1"); squash(out) != "NAME REPLICAS COLOR w1 4 blue" {
		t.Errorf("get by short name after apply: %q", out)
	}
	bad := k.fails(widgetYAML(group, "bad", "{replicas: -1}"), "apply", "-f", "-")
	if bad != `The Widget "bad" is invalid: spec.replicas: Invalid value: -1: spec.replicas in body should be greater than or equal to 0` {
		t.Errorf("invalid widget: %q", bad)
	}
	strict := k.fails(widgetYAML(group, "w2", "{replicas: 1, bogus: x}"), "apply", "-f", "-")
	if !strings.Contains(strict, `unknown field "spec.bogus"`) {
		t.Errorf("unknown field with strict validation: %q", strict)
	}
	out, errOut, err := k.run(widgetYAML(group, "w2", "{replicas: 1, bogus: x}"), "apply", "--validate=warn", "-f", "-")
	if err != nil || squash(out) != "widget."+group+"/w2 created" || !strings.Contains(errOut, `unknown field "spec.bogus"`) {
		t.Errorf("apply --validate=warn: %v %q %q", err, out, errOut)
	}
	if spec := k.ok("", "get", res, "w2", "-o", "jsonpath={.spec}"); spec != `{"color":"blue","replicas":1}` {
		t.Errorf("pruned spec: %q", spec)
	}
	if out := k.ok("", "delete", "crd", "widgets."+group); squash(out) != `customresourcedefinition.apiextensions.k8s.io "widgets.`+group+`" deleted` {
		t.Errorf("delete crd: %q", out)
	}
	framework.Eventually(t, 30*time.Second, 200*time.Millisecond, "the definition and its widgets are gone", func() error {
		_, errOut, err := k.run("", "get", "crd", "widgets."+group)
		if err == nil || !strings.Contains(errOut, "NotFound") {
			return fmt.Errorf("crd still there: %v %s", err, errOut)
		}
		return nil
	})
	// The widgets went with it: the same definition again finds none.
	k.ok(crdYAML(group), "apply", "-f", "-")
	k.ok("", "wait", "--for", "condition=established", "--timeout=30s", "crd/widgets."+group)
	framework.Eventually(t, 20*time.Second, 200*time.Millisecond, "no widgets left", func() error {
		out, errOut, err := k.run("", "get", res)
		if err != nil || out != "" || !strings.Contains(errOut, "No resources found") {
			return fmt.Errorf("%v %q %q", err, out, errOut)
		}
		return nil
	})
	k.ok("", "delete", "crd", "widgets."+group)
}
