package certificates

import (
	"crypto/x509"
	"fmt"
	"net"
	"slices"
	"strings"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"
)

// A node's serving certificate request (signer kubelet-serving, from
// kubelet's --rotate-server-certificates) is one kube-controller-manager
// leaves to an administrator. The bundled server approves it when it can
// tell the names are the node's own, as the community's kubelet CSR
// approvers do: the requester is the node (system:node:NAME in
// system:nodes) asking for itself, and every name is on its Node: the
// node's name or a Hostname/InternalDNS/ExternalDNS address, an
// InternalIP/ExternalIP address that no other Node lists. A request that
// does not pass yet (the Node has not reported its addresses) waits, and
// is looked at again when the Node changes; one that names what is not
// the node's waits for a human (`kubectl certificate approve|deny`).

const servingApprovalMessage = "Auto approving kubelet serving certificate: the node asks for its own names, which its Node lists."

// servingNode is the node a request is a serving request of, "" if it is
// not one (another signer, or its subject is not its requester, who is a
// node).
func servingNode(csr *certificatesv1.CertificateSigningRequest, req *x509.CertificateRequest) string {
	if csr.Spec.SignerName != KubeletServingSigner || nodeServingRequest(req, csr.Spec.Usages) != nil {
		return ""
	}
	if csr.Spec.Username != req.Subject.CommonName || !slices.Contains(csr.Spec.Groups, nodesGroup) {
		return ""
	}
	return strings.TrimPrefix(csr.Spec.Username, nodeUserPrefix)
}

// ownNames says why req names something its Node does not list as the
// node's own; nil when every name is the node's.
func ownNames(req *x509.CertificateRequest, node *corev1.Node, nodes []*corev1.Node) error {
	dns := []string{node.Name}
	var ips []net.IP
	for _, a := range node.Status.Addresses {
		switch a.Type {
		case corev1.NodeHostName, corev1.NodeInternalDNS, corev1.NodeExternalDNS:
			dns = append(dns, a.Address)
		case corev1.NodeInternalIP, corev1.NodeExternalIP:
			if ip := net.ParseIP(a.Address); ip != nil {
				ips = append(ips, ip)
			}
		}
	}
	for _, d := range req.DNSNames {
		if !slices.Contains(dns, d) {
			return fmt.Errorf("DNS name %q is not among node %s's names %v", d, node.Name, dns)
		}
	}
	for _, ip := range req.IPAddresses {
		if !slices.ContainsFunc(ips, ip.Equal) {
			return fmt.Errorf("IP address %s is not among node %s's addresses", ip, node.Name)
		}
		if other := addressOwner(ip, node.Name, nodes); other != "" {
			return fmt.Errorf("IP address %s is also node %s's", ip, other)
		}
	}
	return nil
}

// addressOwner is another Node than self that lists ip, or "".
func addressOwner(ip net.IP, self string, nodes []*corev1.Node) string {
	for _, n := range nodes {
		if n.Name == self {
			continue
		}
		for _, a := range n.Status.Addresses {
			if (a.Type == corev1.NodeInternalIP || a.Type == corev1.NodeExternalIP) && ip.Equal(net.ParseIP(a.Address)) {
				return n.Name
			}
		}
	}
	return ""
}

// servingApproval says whether a node's serving request is approved now:
// false with no error while its Node is missing or its names are not (yet)
// the node's; the reason is logged once per request.
func (a *Approver) servingApproval(csr *certificatesv1.CertificateSigningRequest, req *x509.CertificateRequest, nodeName string) (bool, error) {
	node, err := a.nodes.Get(nodeName)
	if apierrors.IsNotFound(err) {
		a.waiting(csr, fmt.Errorf("node %s is not registered yet", nodeName))
		return false, nil
	}
	if err != nil {
		return false, err
	}
	all, err := a.nodes.List(labels.Everything())
	if err != nil {
		return false, err
	}
	if err := ownNames(req, node, all); err != nil {
		a.waiting(csr, err)
		return false, nil
	}
	return true, nil
}

// waiting logs once why a serving request is not approved.
func (a *Approver) waiting(csr *certificatesv1.CertificateSigningRequest, why error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.told[csr.Name] == csr.UID {
		return
	}
	a.told[csr.Name] = csr.UID
	a.log.Info("serving certificate request left pending", "name", csr.Name, "requester", csr.Spec.Username, "reason", why)
}

// nodeHandler queues a node's pending serving requests when its Node
// appears or changes (its addresses may now cover them).
func (a *Approver) nodeHandler() cache.ResourceEventHandler {
	queue := func(obj any) {
		node, ok := obj.(*corev1.Node)
		if !ok {
			return
		}
		all, _ := a.csrs.List(labels.Everything())
		for _, csr := range all {
			if csr.Spec.SignerName == KubeletServingSigner && csr.Spec.Username == nodeUserPrefix+node.Name && len(csr.Status.Conditions) == 0 {
				a.queue.Add(csr.Name)
			}
		}
	}
	return cache.ResourceEventHandlerFuncs{AddFunc: queue, UpdateFunc: func(_, obj any) { queue(obj) }}
}
