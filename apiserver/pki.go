package apiserver

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"

	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/nodeagent/nodeagent/apiserver/auth"
	"github.com/nodeagent/nodeagent/certs"
)

// AdminUser is the identity in the admin kubeconfig.
const AdminUser = "kubernetes-admin"

func (s *Server) pkiDir() string { return filepath.Join(s.cfg.DataDir, "pki") }

// setupPKI loads or makes the CA, the serving certificate, the admin and
// kubelet-client certificates, writes the admin kubeconfig and sets up
// authentication and authorization.
func (s *Server) setupPKI() error {
	ca, err := certs.LoadOrCreateCA(s.pkiDir(), "nodeagent-ca")
	if err != nil {
		return fmt.Errorf("CA: %w", err)
	}
	s.ca, s.caPool = ca, ca.CertPool()
	s.advertise = s.cfg.AdvertiseAddress
	if s.advertise == "" {
		s.advertise = defaultAdvertise(s.cfg.BindAddress)
	}
	hosts, ips := s.servingNames()
	if s.serving, err = ca.ServingCert(s.pkiDir(), "apiserver", hosts, ips); err != nil {
		return fmt.Errorf("serving certificate: %w", err)
	}
	if err := s.setupAgentClient(ca); err != nil {
		return err
	}
	if err := s.writeAdminKubeconfig(); err != nil {
		return err
	}
	tokens := map[string]auth.User{}
	if s.cfg.TokenFile != "" {
		if tokens, err = auth.LoadTokenFile(s.cfg.TokenFile); err != nil {
			return fmt.Errorf("token file: %w", err)
		}
	}
	s.authn = auth.NewAuthenticator(s.caPool, tokens)
	s.authz = auth.NewAuthorizer(&podGraph{s: s})
	return s.setupServiceAccountTokens()
}

func (s *Server) writeAdminKubeconfig() error {
	admin, err := s.ca.ClientCert(s.pkiDir(), "admin", AdminUser, []string{auth.GroupMasters})
	if err != nil {
		return err
	}
	return certs.WriteKubeconfig(s.AdminKubeconfig(), certs.Kubeconfig(s.URL(), "admin", s.ca.CertPEM, admin, ""))
}

// NodeKubeconfig mints a client certificate for node name (user
// system:node:<name>, group system:nodes) and returns a kubeconfig with it.
func (s *Server) NodeKubeconfig(name string) ([]byte, error) {
	return NodeKubeconfig(s.cfg.DataDir, s.URL(), name)
}

// NodeKubeconfig mints node credentials with the CA kept in dataDir. It
// never makes a CA (only the server does): a data dir without one is an
// error, not a new cluster CA that no server trusts.
func NodeKubeconfig(dataDir, serverURL, name string) ([]byte, error) {
	ca, err := loadClusterCA(dataDir)
	if err != nil {
		return nil, err
	}
	kp, err := ca.ClientCert(filepath.Join(dataDir, "pki", "nodes"), name, auth.NodeUserPrefix+name, []string{auth.GroupNodes})
	if err != nil {
		return nil, err
	}
	return certs.Kubeconfig(serverURL, auth.NodeUserPrefix+name, ca.CertPEM, kp, ""), nil
}

// CA is the cluster CA, which signs the certificates of approved requests.
func (s *Server) CA() *certs.CA { return s.ca }

// ProxyUser is kube-proxy's user, whom the default RBAC binds to
// system:node-proxier.
const ProxyUser = "system:kube-proxy"

// ProxyKubeconfig mints a client certificate for system:kube-proxy (the
// service proxy's and the node routes' identity, as kube-proxy's beside a
// kubelet) with the CA kept in dataDir, which it never makes.
func ProxyKubeconfig(dataDir, serverURL string) ([]byte, error) {
	ca, err := loadClusterCA(dataDir)
	if err != nil {
		return nil, err
	}
	kp, err := ca.ClientCert(filepath.Join(dataDir, "pki"), "kube-proxy", ProxyUser, nil)
	if err != nil {
		return nil, err
	}
	return certs.Kubeconfig(serverURL, ProxyUser, ca.CertPEM, kp, ""), nil
}

// servingNames are the names and addresses the serving certificate covers.
func (s *Server) servingNames() ([]string, []net.IP) {
	hosts := []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"}
	if h, err := os.Hostname(); err == nil {
		hosts = append(hosts, h)
	}
	ips := []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1"), net.IP(s.services.ips.First().AsSlice())}
	add := func(v string) {
		if ip := net.ParseIP(v); ip != nil {
			ips = append(ips, ip)
		} else if v != "" {
			hosts = append(hosts, v)
		}
	}
	add(s.advertise)
	if s.cfg.BindAddress != "0.0.0.0" && s.cfg.BindAddress != "::" {
		add(s.cfg.BindAddress)
	} else {
		for _, ip := range localIPs() {
			ips = append(ips, ip)
		}
	}
	for _, x := range s.cfg.ExtraSANs {
		add(x)
	}
	return hosts, ips
}

// defaultAdvertise picks the bind address, or the first non-loopback IPv4
// address of this machine (namespace), or 127.0.0.1.
func defaultAdvertise(bind string) string {
	if bind != "" && bind != "0.0.0.0" && bind != "::" {
		return bind
	}
	for _, ip := range localIPs() {
		if ip.To4() != nil && !ip.IsLoopback() {
			return ip.String()
		}
	}
	return "127.0.0.1"
}

func localIPs() []net.IP {
	addrs, _ := net.InterfaceAddrs()
	var out []net.IP
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLinkLocalUnicast() {
			out = append(out, n.IP)
		}
	}
	return out
}

// servingChain is the serving certificate followed by the cluster CA, so
// that a joining node can pin the CA by its hash (kubeadm's
// --discovery-token-ca-cert-hash) from the TLS handshake alone, before it
// sends its token anywhere.
func (s *Server) servingChain() tls.Certificate {
	c := mustPair(s.serving)
	c.Certificate = append(c.Certificate, s.ca.Cert.Raw)
	return c
}

func mustPair(kp *certs.KeyPair) tls.Certificate {
	c, err := tls.X509KeyPair(kp.CertPEM, kp.KeyPEM)
	if err != nil {
		panic(fmt.Sprintf("a key pair this server made does not parse: %v", err))
	}
	return c
}

func newUID() types.UID { return types.UID(uuid.NewUUID()) }

func runtimeCountOnly() clientv3.OpOption { return clientv3.WithCountOnly() }

// LoopbackConfig is a client configuration with the admin identity, for the
// controllers and the agent that run in the same process.
func (s *Server) LoopbackConfig() (*rest.Config, error) {
	data, err := os.ReadFile(s.AdminKubeconfig())
	if err != nil {
		return nil, err
	}
	return clientcmd.RESTConfigFromKubeConfig(data)
}

// loadClusterCA reads the CA the server made in dataDir; only the server
// makes one, so a wrong directory is an error, never a new CA.
func loadClusterCA(dataDir string) (*certs.CA, error) {
	pki := filepath.Join(dataDir, "pki")
	ca, err := certs.LoadCA(pki)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no cluster CA in %s (is %s the server's --data-dir? only `nodeagent server` makes the CA): %w", pki, dataDir, err)
	}
	if err != nil {
		return nil, fmt.Errorf("cluster CA in %s: %w", pki, err)
	}
	return ca, nil
}
