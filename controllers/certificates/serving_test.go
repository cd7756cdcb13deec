package certificates

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"net"
	"testing"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
)

var servingUsages = []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageServerAuth}

// servingCSR is node's request, made by requester, for these names.
func servingCSR(t *testing.T, name, requester string, subject pkix.Name, dns []string, ips ...string) *certificatesv1.CertificateSigningRequest {
	c := csr(t, name, requester, KubeletServingSigner, subject, servingUsages...)
	c.Spec.Groups = []string{"system:nodes", "system:authenticated"}
	tmpl := x509.CertificateRequest{Subject: subject, DNSNames: dns}
	for _, ip := range ips {
		tmpl.IPAddresses = append(tmpl.IPAddresses, net.ParseIP(ip))
	}
	c.Spec.Request = request(t, tmpl)
	return c
}

func node(name string, addrs ...corev1.NodeAddress) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.NodeStatus{Addresses: addrs}}
}

// A node's serving request is approved when every name is its own, as its
// Node lists them; anything else waits for a human, without a
// SubjectAccessReview (kube has no permission for it).
func TestApproverApprovesANodesServingRequestForItsOwnNames(t *testing.T) {
	n2Subject := pkix.Name{CommonName: "system:node:n2", Organization: []string{"system:nodes"}}
	notANode := servingCSR(t, "not-a-node", "system:node:n1", nodeSubject, []string{"n1"}, "192.0.2.7")
	notANode.Spec.Groups = []string{"system:authenticated"}
	objs := []runtime.Object{
		node("n1", corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "192.0.2.7"}, corev1.NodeAddress{Type: corev1.NodeHostName, Address: "n1.lab"}),
		node("n2", corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "192.0.2.8"}, corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "192.0.2.9"}),
		node("n3", corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "192.0.2.9"}),
		servingCSR(t, "own", "system:node:n1", nodeSubject, []string{"n1", "n1.lab"}, "192.0.2.7"),
		servingCSR(t, "other-nodes-ip", "system:node:n1", nodeSubject, []string{"n1"}, "192.0.2.8"),
		servingCSR(t, "foreign-name", "system:node:n1", nodeSubject, []string{"kubernetes.default.svc"}, "192.0.2.7"),
		servingCSR(t, "for-another-node", "system:node:n1", n2Subject, []string{"n2"}, "192.0.2.8"),
		servingCSR(t, "shared-ip", "system:node:n2", n2Subject, []string{"n2"}, "192.0.2.9"),
		servingCSR(t, "admin-asks", "admin", nodeSubject, []string{"n1"}, "192.0.2.7"),
		servingCSR(t, "unregistered", "system:node:n4", pkix.Name{CommonName: "system:node:n4", Organization: []string{"system:nodes"}}, []string{"n4"}),
		notANode,
	}
	client := fake.NewClientset(objs...)
	asked := allowSAR(client, func(string, string) bool { return true })
	a, ctx := startedApprover(t, client)
	syncAll(t, ctx, a, objs)
	for name, want := range map[string]bool{"own": true, "other-nodes-ip": false, "foreign-name": false, "for-another-node": false,
		"shared-ip": false, "admin-asks": false, "unregistered": false, "not-a-node": false} {
		ok, msg := approved(t, client, name)
		if ok != want || (ok && msg != servingApprovalMessage) {
			t.Errorf("%s: approved %v (%q), want %v", name, ok, msg, want)
		}
	}
	if len(*asked) != 0 {
		t.Errorf("subject access reviews for serving requests: %v", *asked)
	}
}

// A request made before its Node reported its addresses is approved once
// the Node lists them: the Node's change queues it.
func TestServingRequestWaitsForItsNode(t *testing.T) {
	client := fake.NewClientset(servingCSR(t, "early", "system:node:n1", nodeSubject, []string{"n1"}, "192.0.2.7"))
	a, ctx := startedApprover(t, client)
	key, _ := a.queue.Get() // the CSR's add
	if err := a.sync(ctx, key); err != nil {
		t.Fatal(err)
	}
	a.queue.Done(key)
	if ok, _ := approved(t, client, "early"); ok {
		t.Fatal("approved before the node registered")
	}
	if _, err := client.CoreV1().Nodes().Create(ctx, node("n1", corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "192.0.2.7"}), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() { k, _ := a.queue.Get(); got <- k }()
	select {
	case key = <-got:
	case <-time.After(5 * time.Second):
		a.queue.ShutDown()
		t.Fatal("the node's registration did not queue its pending serving request")
	}
	if err := a.sync(ctx, key); err != nil {
		t.Fatal(err)
	}
	if ok, _ := approved(t, client, "early"); !ok {
		t.Error("not approved once the node lists the address")
	}
}
