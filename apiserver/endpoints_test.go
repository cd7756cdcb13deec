package apiserver

import (
	"slices"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func externalDB() *corev1.Endpoints {
	return &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "db"}, Subsets: []corev1.EndpointSubset{{
		Addresses: []corev1.EndpointAddress{{IP: "192.0.2.10"}}, Ports: []corev1.EndpointPort{{Name: "pg", Port: 5432}}}}}
}

// v1 Endpoints are served as kube serves them: discovery with the short
// name ep, the TCP default, kube's validation messages on create and
// update.
func TestEndpointsServedAndValidated(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	c := ts.admin(t)
	list, err := c.Discovery().ServerResourcesForGroupVersion("v1")
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(list.APIResources, func(r metav1.APIResource) bool { return r.Name == "endpoints" })
	if i < 0 || !list.APIResources[i].Namespaced || !slices.Equal(list.APIResources[i].ShortNames, []string{"ep"}) ||
		list.APIResources[i].Kind != "Endpoints" {
		t.Fatalf("discovery of endpoints: %+v", list.APIResources)
	}
	eps := c.CoreV1().Endpoints("default")
	got, err := eps.Create(bg, externalDB(), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p := got.Subsets[0].Ports[0].Protocol; p != corev1.ProtocolTCP {
		t.Errorf("protocol defaulted to %q, want TCP", p)
	}
	bad := externalDB()
	bad.Name = "bad"
	bad.Subsets[0].Addresses[0].IP = "127.0.0.1"
	bad.Subsets = append(bad.Subsets, corev1.EndpointSubset{Ports: []corev1.EndpointPort{{Port: 80}}})
	_, err = eps.Create(bg, bad, metav1.CreateOptions{})
	wantInvalid(t, err, `Endpoints "bad" is invalid: [subsets[0].addresses[0].ip: Invalid value: "127.0.0.1": `+
		"may not be in the loopback range (127.0.0.0/8, ::1/128), subsets[1]: Required value: must specify `addresses` or `notReadyAddresses`]")
	got.Subsets[0].Ports = append(got.Subsets[0].Ports, corev1.EndpointPort{Port: 5433, Protocol: corev1.ProtocolTCP})
	_, err = eps.Update(bg, got, metav1.UpdateOptions{})
	wantInvalid(t, err, `Endpoints "db" is invalid: subsets[0].ports[1].name: Required value`)
}

// A node gets Endpoints by name (kube's system:node rule) and may neither
// list nor write them.
func TestNodeOnlyGetsEndpoints(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	if _, err := ts.admin(t).CoreV1().Endpoints("default").Create(bg, externalDB(), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	n := ts.node(t, "n1").CoreV1().Endpoints("default")
	if _, err := n.Get(bg, "db", metav1.GetOptions{}); err != nil {
		t.Fatalf("node gets endpoints: %v", err)
	}
	if _, err := n.List(bg, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("node lists endpoints: %v", err)
	}
	ep := externalDB()
	ep.Name = "mine"
	_, err := n.Create(bg, ep, metav1.CreateOptions{})
	want := `endpoints is forbidden: User "system:node:n1" cannot create resource "endpoints" in API group "" in the namespace "default"`
	if !apierrors.IsForbidden(err) || err.Error() != want {
		t.Fatalf("node creates endpoints:\n got %v\nwant %s", err, want)
	}
	if err := n.Delete(bg, "db", metav1.DeleteOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("node deletes endpoints: %v", err)
	}
}

// The server keeps v1 Endpoints default/kubernetes beside its slice, as
// kube-apiserver does, labelled skip-mirror; a deleted or changed one is
// put back.
func TestKubernetesEndpoints(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	c := ts.admin(t)
	eps := c.CoreV1().Endpoints("default")
	if _, err := eps.Get(bg, "kubernetes", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("endpoints for a loopback advertise address: %v", err)
	}
	sync := func() {
		t.Helper()
		if err := ts.srv.syncKubernetesService(bg, []string{"127.0.0.1", "192.0.2.11", "192.0.2.10"}, ts.port); err != nil {
			t.Fatal(err)
		}
	}
	check := func(when string) {
		t.Helper()
		ep, err := eps.Get(bg, "kubernetes", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		ss := ep.Subsets
		if len(ss) != 1 || len(ss[0].Addresses) != 2 || ss[0].Addresses[0].IP != "192.0.2.11" || ss[0].Addresses[1].IP != "192.0.2.10" ||
			ss[0].Ports[0] != (corev1.EndpointPort{Name: "https", Port: int32(ts.port), Protocol: corev1.ProtocolTCP}) ||
			ep.Labels["endpointslice.kubernetes.io/skip-mirror"] != "true" {
			t.Fatalf("%s: %+v", when, ep)
		}
	}
	sync()
	check("first sync")
	if err := eps.Delete(bg, "kubernetes", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	sync()
	check("after a delete")
	changed := externalDB()
	changed.Name = "kubernetes"
	cur, _ := eps.Get(bg, "kubernetes", metav1.GetOptions{})
	changed.ResourceVersion = cur.ResourceVersion
	if _, err := eps.Update(bg, changed, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	sync()
	check("after a change")
}

// kube's default roles since 1.22: view reads Endpoints, edit (and so
// admin) does not write them (CVE-2021-25740: Endpoints may point a
// Service anywhere).
func TestEditorsDoNotWriteEndpoints(t *testing.T) {
	ts := startServer(t, t.TempDir(), 0)
	admin := ts.admin(t)
	if _, err := admin.CoreV1().ServiceAccounts("default").Create(bg, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "dev"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tr, err := admin.CoreV1().ServiceAccounts("default").CreateToken(bg, "dev", &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rb := bindRole("default", "dev-admin", "ClusterRole", "admin", rbacSubject("ServiceAccount", "dev"))
	if _, err := admin.RbacV1().RoleBindings("default").Create(bg, rb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	dev := ts.bearer(t, tr.Status.Token).CoreV1().Endpoints("default")
	eventuallyNoErr(t, "admin lists endpoints", func() error {
		_, err := dev.List(bg, metav1.ListOptions{})
		return err
	})
	_, err = dev.Create(bg, externalDB(), metav1.CreateOptions{})
	wantForbidden(t, "admin creates endpoints", err,
		`endpoints is forbidden: User "system:serviceaccount:default:dev" cannot create resource "endpoints" in API group "" in the namespace "default"`)
}
