//go:build linux && e2e

package e2e

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nodeagent/nodeagent/e2e/framework"
)

const testImage = "127.0.0.1:5000/nodeagent/testserver:v1"

// badDeploymentYAML selects pods its template does not label.
const badDeploymentYAML = `apiVersion: apps/v1
kind: Deployment
metadata: {name: bad}
spec:
  selector: {matchLabels: {app: bad}}
  template:
    metadata: {labels: {app: other}}
    spec:
      containers: [{name: c, image: ` + testImage + `}]
`

// The bundled API server serves apps/v1 and batch/v1 as kubectl expects
// (the pods stay Pending: no agent runs; the controllers do, so what they
// write is not asserted here):
// create, get with kube's columns, scale through the scale subresource,
// jobs and cronjobs from kubectl's generators, the "all" category, and an
// invalid manifest refused with the field path.
func TestWorkloadsWithKubectl(t *testing.T) {
	requireAPIServerDeps(t)
	node := framework.NewLab(t)
	srv := framework.StartAPIServer(t, node, "--disable-agent")
	for i, bin := range kubectls {
		t.Run(filepath.Base(bin), func(t *testing.T) {
			k := &kctl{t: t, srv: srv, bin: bin, kubeconfig: srv.Kubeconfig(), dir: t.TempDir()}
			workloadsScenario(t, k, fmt.Sprintf("wl-%d", i))
		})
	}
}

func workloadsScenario(t *testing.T, k *kctl, ns string) {
	for _, c := range [][2]string{
		{"create namespace " + ns, "namespace/" + ns + " created"},
		{"create deployment web --image=" + testImage + " --replicas=2 -n " + ns, "deployment.apps/web created"},
		{"scale deploy/web --replicas=3 -n " + ns, "deployment.apps/web scaled"},
		{"create job pi --image=" + testImage + " -n " + ns, "job.batch/pi created"},
	} {
		if out := k.ok("", strings.Fields(c[0])...); squash(out) != c[1] {
			t.Fatalf("kubectl %s: %q", c[0], out)
		}
	}
	out := k.ok("", "create", "cronjob", "tick", "--image="+testImage, "--schedule=*/5 * * * *", "-n", ns)
	if squash(out) != "cronjob.batch/tick created" {
		t.Fatalf("create cronjob: %q", out)
	}

	if got := k.ok("", "get", "deploy", "web", "-n", ns, "-o", "jsonpath={.spec.replicas} {.spec.strategy.type}"); got != "3 RollingUpdate" {
		t.Errorf("deployment after scaling: %q", got)
	}
	for _, c := range [][2]string{
		{"set image deploy/web testserver=" + testImage + "-next -n " + ns, "deployment.apps/web image updated"},
		{"rollout restart deploy/web -n " + ns, "deployment.apps/web restarted"},
		{"create job manual --from=cronjob/tick -n " + ns, "job.batch/manual created"},
	} {
		if out := k.ok("", strings.Fields(c[0])...); squash(out) != c[1] {
			t.Fatalf("kubectl %s: %q", c[0], out)
		}
	}
	if got := k.ok("", "get", "deploy", "web", "-n", ns, "-o", "jsonpath={.spec.template.spec.containers[0].image}"); got != testImage+"-next" {
		t.Errorf("deployment after set image and restart: %q", got)
	}
	if got := k.ok("", "get", "job", "manual", "-n", ns, "-o", "jsonpath={.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name} {.spec.template.spec.restartPolicy}"); got != "CronJob/tick OnFailure" {
		t.Errorf("job from the cronjob: %q", got)
	}
	if got := squash(k.ok("", "get", "deploy", "web", "-n", ns)); !strings.HasPrefix(got, "NAME READY UP-TO-DATE AVAILABLE AGE web 0/3 ") {
		t.Errorf("kubectl get deploy web: %q", got)
	}
	if got := squash(k.ok("", "get", "deploy", "web", "-n", ns, "-o", "wide")); !strings.HasPrefix(got,
		"NAME READY UP-TO-DATE AVAILABLE AGE CONTAINERS IMAGES SELECTOR web 0/3 ") || !strings.HasSuffix(got, "testserver "+testImage+"-next app=web") {
		t.Errorf("kubectl get deploy web -o wide: %q", got)
	}
	uid := k.ok("", "get", "job", "pi", "-n", ns, "-o", "jsonpath={.metadata.uid}")
	if got := k.ok("", "get", "job", "pi", "-n", ns, "-o", "jsonpath={.spec.selector.matchLabels.batch\\.kubernetes\\.io/controller-uid} {.spec.backoffLimit} {.spec.template.spec.restartPolicy}"); got != uid+" 6 Never" {
		t.Errorf("job: %q (uid %s)", got, uid)
	}
	if got := squash(k.ok("", "get", "cronjob", "tick", "-n", ns)); !strings.HasPrefix(got,
		"NAME SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE AGE tick */5 * * * * <none> False 0 <none> ") {
		t.Errorf("kubectl get cronjob: %q", got)
	}
	all := squash(k.ok("", "get", "all", "-n", ns))
	for _, want := range []string{"deployment.apps/web 0/3 ", "job.batch/pi Running 0/1", "job.batch/manual Running 0/1", "cronjob.batch/tick */5 * * * *"} {
		if !strings.Contains(all, want) {
			t.Errorf("kubectl get all lacks %q: %q", want, all)
		}
	}
	// The Deployment's ReplicaSets (the bundled controllers make them)
	// come between it and the jobs.
	names := strings.Fields(k.ok("", "get", "deploy,rs,sts,ds,job,cronjob", "-n", ns, "-o", "name"))
	others := slices.DeleteFunc(slices.Clone(names), func(n string) bool { return strings.HasPrefix(n, "replicaset.apps/web-") })
	if strings.Join(others, " ") != "deployment.apps/web job.batch/manual job.batch/pi cronjob.batch/tick" {
		t.Errorf("kubectl get deploy,rs,sts,ds,job,cronjob -o name: %q", names)
	}

	got := k.fails(badDeploymentYAML, "apply", "-n", ns, "-f", "-")
	want := `The Deployment "bad" is invalid: spec.template.metadata.labels: Invalid value: {"app":"other"}: ` + "`selector` does not match template `labels`"
	if got != want {
		t.Errorf("invalid deployment:\n got %q\nwant %q", got, want)
	}
	if got := k.fails("", "get", "deploy", "bad", "-n", ns); got != `Error from server (NotFound): deployments.apps "bad" not found` {
		t.Errorf("the invalid deployment: %q", got)
	}
}
