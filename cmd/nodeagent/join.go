package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/nodeagent/nodeagent/agent/certificate"
	"github.com/nodeagent/nodeagent/apiserver/auth"
	"github.com/nodeagent/nodeagent/certs"
	"github.com/nodeagent/nodeagent/controllers/certificates"
)

// joinOptions are `nodeagent join`'s own flags; every other argument goes
// to the agent it runs.
type joinOptions struct {
	server string // https://HOST:PORT
	token  string // <id>.<secret>
	caHash string // sha256:<hex>
	dir    string // where the credentials are kept
	agent  []string
}

// restartReadyGrace is how long a restarted join waits for its node to be
// Ready before it tells systemd it is ready anyway (well within the
// unit's TimeoutStartSec, 300 s), so that a server that is down does not
// make systemd restart the unit again and again.
const restartReadyGrace = 60 * time.Second

// joinIssueTimeout bounds the wait for the kube-proxy certificate.
const joinIssueTimeout = 5 * time.Minute

// parseJoinArgs takes the server URL (first), --token,
// --discovery-token-ca-cert-hash and --credentials-dir (as --f v or
// --f=v) and leaves the rest for the agent.
func parseJoinArgs(args []string) (joinOptions, error) {
	o := joinOptions{dir: "/etc/nodeagent"}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return o, errors.New("usage: nodeagent join https://SERVER:6443 --token ID.SECRET --discovery-token-ca-cert-hash sha256:HASH [--credentials-dir DIR] [agent flags...]")
	}
	o.server = args[0]
	own := map[string]*string{"token": &o.token, "discovery-token-ca-cert-hash": &o.caHash, "credentials-dir": &o.dir}
	for i := 1; i < len(args); i++ {
		name, value, hasValue := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		dst, ok := own[name]
		if !ok || !strings.HasPrefix(args[i], "-") {
			o.agent = append(o.agent, args[i])
			continue
		}
		if !hasValue {
			if i+1 >= len(args) {
				return o, fmt.Errorf("--%s needs a value", name)
			}
			i++
			value = args[i]
		}
		*dst = value
	}
	switch {
	case !auth.IsBootstrapToken(o.token):
		return o, fmt.Errorf("--token %q: want a join token, [a-z0-9]{6}.[a-z0-9]{16} (nodeagent token create prints one)", o.token)
	case o.caHash == "":
		return o, errors.New("--discovery-token-ca-cert-hash is required: it is how this node knows it talks to your cluster")
	}
	return o, nil
}

// agentFlag says whether the agent's arguments give flag name.
func (o joinOptions) agentFlag(name string) bool {
	for _, a := range o.agent {
		if n, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "="); strings.HasPrefix(a, "-") && n == name {
			return true
		}
	}
	return false
}

// runJoin is `nodeagent join`: it finds the cluster CA by its pin from the
// server's TLS handshake, writes a bootstrap kubeconfig with the token,
// gets the node's proxy identity (system:kube-proxy) through a CSR the
// server approves for join tokens, and runs the agent, which gets its own
// client certificate through TLS bootstrapping (--bootstrap-kubeconfig),
// and its serving certificate through a CSR (--rotate-server-certificates,
// unless the arguments give --tls-cert-file).
// Run again after a join that got as far as the agent, it trusts the CA
// that join verified and keeps the credentials it has (join_restart.go),
// so it starts while the server is down.
func runJoin(ctx context.Context, env *environment, args []string) error {
	o, err := parseJoinArgs(args)
	if err != nil {
		return err
	}
	ca, kept, err := joinCA(ctx, o, discoverCA, env.log.With("component", "join"))
	if err != nil {
		return err
	}
	if kept {
		// a restart: with the server down the node cannot be Ready,
		// yet the agent runs and keeps its pods
		env.readyGrace = restartReadyGrace
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw})
	if err := otherClusterCredentials(o, ca); err != nil {
		return err
	}
	if err := os.MkdirAll(o.dir, 0o700); err != nil {
		return err
	}
	if err := certs.WriteKubeconfig(o.path(bootstrapKubeconfigFile), certs.Kubeconfig(o.server, "tls-bootstrap-token-user", caPEM, nil, o.token)); err != nil {
		return err
	}
	if err := ensureProxyCredentials(ctx, env, o.server, caPEM, o.token, o.path(proxyKubeconfigFile)); err != nil {
		return err
	}
	env.log.Info("joining the cluster", "server", o.server, "ca", certs.PinHash(ca), "credentials", o.dir)
	return runAgent(ctx, env, o.agentArgs(env.config))
}

// agentArgs are the arguments of the agent join runs: join's credentials
// (given as flags, they win over the config file's agent section), then
// the agent flags of join's command line.
func (o joinOptions) agentArgs(cfg *commandConfig) []string {
	args := []string{"--bootstrap-kubeconfig", o.path(bootstrapKubeconfigFile),
		"--kubeconfig", o.path(nodeKubeconfigFile), "--proxy-kubeconfig", o.path(proxyKubeconfigFile)}
	if !o.agentFlag("tls-cert-file") && !o.agentFlag("rotate-server-certificates") && !cfg.has("tls-cert-file") && !cfg.has("rotate-server-certificates") {
		// so that the server reaches the agent for logs and exec
		args = append(args, "--rotate-server-certificates")
	}
	return append(args, o.agent...)
}

// ensureProxyCredentials writes a kubeconfig for system:kube-proxy at path
// unless one for this server and CA is there (hasProxyCredentials), asking
// for the certificate with the join token.
func ensureProxyCredentials(ctx context.Context, env *environment, server string, caPEM []byte, token, path string) error {
	if hasProxyCredentials(path, server, caPEM) {
		return nil
	}
	client, err := kubernetes.NewForConfig(&rest.Config{Host: server, BearerToken: token, TLSClientConfig: rest.TLSClientConfig{CAData: caPEM}})
	if err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, joinIssueTimeout)
	defer cancel()
	certPEM, err := certificate.RequestClientCertificate(wctx, client, key, pkix.Name{CommonName: certificates.ProxyUser},
		certificates.ClientSigner, "kube-proxy-csr-", env.log.With("component", "join"))
	if err != nil {
		return fmt.Errorf("the proxy's credentials: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	pair := &certs.KeyPair{CertPEM: certPEM, KeyPEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})}
	env.log.Info("proxy credentials issued", "user", certificates.ProxyUser, "kubeconfig", path)
	return certs.WriteKubeconfig(path, certs.Kubeconfig(server, certificates.ProxyUser, caPEM, pair, ""))
}
