package certificates

import (
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/nodeagent/nodeagent/api/validation"
)

// The signers the cluster CA backs.
const (
	KubeletClientSigner  = "kubernetes.io/kube-apiserver-client-kubelet"
	ClientSigner         = "kubernetes.io/kube-apiserver-client"
	KubeletServingSigner = "kubernetes.io/kubelet-serving"
)

const (
	nodeUserPrefix = "system:node:"
	nodesGroup     = "system:nodes"
)

var (
	kubeletClientUsages = [][]certificatesv1.KeyUsage{
		{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth},
		{certificatesv1.UsageKeyEncipherment, certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth},
	}
	kubeletServingUsages = [][]certificatesv1.KeyUsage{
		{certificatesv1.UsageDigitalSignature, certificatesv1.UsageServerAuth},
		{certificatesv1.UsageKeyEncipherment, certificatesv1.UsageDigitalSignature, certificatesv1.UsageServerAuth},
	}
)

// sameUsages: usages is one of the allowed sets, in any order.
func sameUsages(usages []certificatesv1.KeyUsage, allowed [][]certificatesv1.KeyUsage) bool {
	have := slices.Clone(usages)
	slices.Sort(have)
	for _, a := range allowed {
		want := slices.Clone(a)
		slices.Sort(want)
		if slices.Equal(have, want) {
			return true
		}
	}
	return false
}

// nodeClientRequest checks a kubelet client certificate request as kube
// does: subject system:node:<name> in exactly system:nodes, no names of
// any kind, the kubelet client usages.
func nodeClientRequest(req *x509.CertificateRequest, usages []certificatesv1.KeyUsage) error {
	if !strings.HasPrefix(req.Subject.CommonName, nodeUserPrefix) || len(req.Subject.CommonName) == len(nodeUserPrefix) {
		return fmt.Errorf("subject common name does not begin with %s", nodeUserPrefix)
	}
	if !slices.Equal(req.Subject.Organization, []string{nodesGroup}) {
		return fmt.Errorf("subject organization is not %s", nodesGroup)
	}
	if len(req.DNSNames) > 0 || len(req.EmailAddresses) > 0 || len(req.IPAddresses) > 0 || len(req.URIs) > 0 {
		return errors.New("DNS, email, IP and URI subjectAltNames are not allowed")
	}
	if !sameUsages(usages, kubeletClientUsages) {
		return fmt.Errorf("usages did not match %v", kubeletClientUsages)
	}
	return nil
}

// nodeServingRequest checks a kubelet serving certificate request: subject
// system:node:<name> in system:nodes, DNS or IP names only, at least one,
// the serving usages.
func nodeServingRequest(req *x509.CertificateRequest, usages []certificatesv1.KeyUsage) error {
	if !strings.HasPrefix(req.Subject.CommonName, nodeUserPrefix) || len(req.Subject.CommonName) == len(nodeUserPrefix) {
		return fmt.Errorf("subject common name does not begin with %s", nodeUserPrefix)
	}
	if !slices.Equal(req.Subject.Organization, []string{nodesGroup}) {
		return fmt.Errorf("subject organization is not %s", nodesGroup)
	}
	if len(req.EmailAddresses) > 0 || len(req.URIs) > 0 {
		return errors.New("email and URI subjectAltNames are not allowed")
	}
	if len(req.DNSNames) == 0 && len(req.IPAddresses) == 0 {
		return errors.New("DNS or IP subjectAltName is required")
	}
	if !sameUsages(usages, kubeletServingUsages) {
		return fmt.Errorf("usages did not match %v", kubeletServingUsages)
	}
	return nil
}

// ProxyUser is kube-proxy's user, and ProxyClientSubresource the
// permission (create certificatesigningrequests/kubeproxyclient, a
// nodeagent name) whose holder gets a system:kube-proxy client certificate
// approved: a joining node's proxy and node routes run under it, as
// kubeadm's kube-proxy DaemonSet runs on every node with one shared
// identity.
const (
	ProxyUser              = "system:kube-proxy"
	ProxyClientSubresource = "kubeproxyclient"
)

// proxyClientRequest checks a request for kube-proxy's client certificate:
// subject system:kube-proxy in no group, no names, client usages.
func proxyClientRequest(req *x509.CertificateRequest, usages []certificatesv1.KeyUsage) error {
	if req.Subject.CommonName != ProxyUser || len(req.Subject.Organization) > 0 {
		return fmt.Errorf("subject is not %s in no group", ProxyUser)
	}
	if len(req.DNSNames) > 0 || len(req.EmailAddresses) > 0 || len(req.IPAddresses) > 0 || len(req.URIs) > 0 {
		return errors.New("DNS, email, IP and URI subjectAltNames are not allowed")
	}
	return clientRequest(req, usages)
}

// clientRequest checks a kube-apiserver client certificate request: client
// auth among the usages, no server auth.
func clientRequest(_ *x509.CertificateRequest, usages []certificatesv1.KeyUsage) error {
	if !slices.Contains(usages, certificatesv1.UsageClientAuth) {
		return errors.New("usages must include client auth")
	}
	for _, u := range usages {
		switch u {
		case certificatesv1.UsageDigitalSignature, certificatesv1.UsageKeyEncipherment, certificatesv1.UsageClientAuth:
		default:
			return fmt.Errorf("usage %q is not allowed for %s", u, ClientSigner)
		}
	}
	return nil
}

// signerRules are the checks of each signer the cluster CA backs.
var signerRules = map[string]func(*x509.CertificateRequest, []certificatesv1.KeyUsage) error{
	KubeletClientSigner:  nodeClientRequest,
	KubeletServingSigner: nodeServingRequest,
	ClientSigner:         clientRequest,
}

// parse is the request of a CSR.
func parse(csr *certificatesv1.CertificateSigningRequest) (*x509.CertificateRequest, error) {
	return validation.ParseCSR(csr.Spec.Request)
}

// state is what a CSR is waiting for.
func condition(csr *certificatesv1.CertificateSigningRequest, t certificatesv1.RequestConditionType) bool {
	for _, c := range csr.Status.Conditions {
		if c.Type == t && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}
