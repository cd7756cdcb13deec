package apiserver

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/nodeagent/nodeagent/apiserver/auth"
)

// nodeServingName names a node agent's serving certificate and key in the
// directory they are written to: kubelet.crt, kubelet.key (kubelet's names).
const nodeServingName = "kubelet"

// NodeServingCert issues, with the CA kept in dataDir, the serving
// certificate of node name's agent API for its name and ips (the addresses
// the server dials), and writes it to outDir (key 0600, directory 0700). A
// certificate already there is kept while it is good and covers them. It
// returns the certificate's and the key's paths.
func NodeServingCert(dataDir, outDir, name string, ips []net.IP) (string, string, error) {
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return "", "", fmt.Errorf("node name %q: %s", name, strings.Join(errs, "; "))
	}
	if len(ips) == 0 {
		return "", "", errors.New("a node serving certificate needs the node's IP addresses")
	}
	ca, err := loadClusterCA(dataDir)
	if err != nil {
		return "", "", err
	}
	if _, err := ca.ServingCertFor(outDir, nodeServingName, auth.NodeUserPrefix+name, []string{name}, ips); err != nil {
		return "", "", fmt.Errorf("serving certificate for node %s: %w", name, err)
	}
	return filepath.Join(outDir, nodeServingName+".crt"), filepath.Join(outDir, nodeServingName+".key"), nil
}

// NodeServingCert is NodeServingCert for the embedded agent, kept in the
// server's PKI (pki/nodes/<name>/).
func (s *Server) NodeServingCert(name string, ips []net.IP) (string, string, error) {
	return NodeServingCert(s.cfg.DataDir, filepath.Join(s.pkiDir(), "nodes", name), name, ips)
}
