package nodestatus

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	apiversion "k8s.io/apimachinery/pkg/version"
	fakediscovery "k8s.io/client-go/discovery/fake"
)

// The node never reports a kubelet newer than the API server: under an
// older server of the same major version it reports the server's number.
func TestReportedVersion(t *testing.T) {
	for _, c := range []struct{ own, server, want string }{
		{"v1.37.2-nodeagent", "v1.37.2", "v1.37.2-nodeagent"},
		{"v1.37.2-nodeagent", "v1.37.2-nodeagent", "v1.37.2-nodeagent"}, // the bundled server
		{"v1.37.2-nodeagent", "v1.38.0", "v1.37.2-nodeagent"},
		{"v1.37.2-nodeagent", "v1.36.4", "v1.36.4-nodeagent"},
		{"v1.37.2-nodeagent", "v1.37.1", "v1.37.1-nodeagent"},
		{"v1.37.2-nodeagent", "v1.35.0-gke.1200", "v1.35.0-nodeagent"},
		{"v1.37.2-nodeagent", "v0.0.0-master+$Format:%H$", "v1.37.2-nodeagent"}, // no release
		{"v1.37.2-nodeagent", "", "v1.37.2-nodeagent"},
		{"v1.37.2-nodeagent", "not a version", "v1.37.2-nodeagent"},
	} {
		if got := ReportedVersion(c.own, c.server); got != c.want {
			t.Errorf("ReportedVersion(%q, %q) = %q, want %q", c.own, c.server, got, c.want)
		}
	}
}

// The Node reports the version against the server's, asked once.
func TestNodeReportsVersionTheServerAccepts(t *testing.T) {
	healthy := true
	r, client, _ := reporter(t, &healthy)
	disc := client.Discovery().(*fakediscovery.FakeDiscovery)
	disc.FakedServerVersion = &apiversion.Info{GitVersion: "v1.36.4"}
	ctx := context.Background()
	if err := r.postNodeStatus(ctx); err != nil {
		t.Fatal(err)
	}
	disc.FakedServerVersion = &apiversion.Info{GitVersion: "v1.38.0"}
	if err := r.postNodeStatus(ctx); err != nil {
		t.Fatal(err)
	}
	n, err := client.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := n.Status.NodeInfo; got.KubeletVersion != "v1.36.4-nodeagent" || got.KubeProxyVersion != "v1.36.4-nodeagent" {
		t.Errorf("under kube-apiserver v1.36.4: kubelet %q, kube-proxy %q, want v1.36.4-nodeagent", got.KubeletVersion, got.KubeProxyVersion)
	}
	versionCalls := 0
	for _, a := range client.Actions() {
		if a.GetVerb() == "get" && a.GetResource().Resource == "version" {
			versionCalls++
		}
	}
	if versionCalls != 1 {
		t.Errorf("the server's version asked %d times, want once", versionCalls)
	}
}
