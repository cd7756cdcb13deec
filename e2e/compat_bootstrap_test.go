//go:build e2e && compat

package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodeagent/nodeagent/certs"
	"github.com/nodeagent/nodeagent/e2e/framework"
	"github.com/nodeagent/nodeagent/lab"
)

// bootstrapRBACYAML is what kubeadm binds for a bootstrap token's group
// (system:bootstrappers:nodeagent: ask for node client certificates, and
// have them approved) and for nodes (have their renewals approved).
const bootstrapRBACYAML = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "nodeagent:kubelet-bootstrap"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:node-bootstrapper"}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: "system:bootstrappers:nodeagent"}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "nodeagent:node-autoapprove-bootstrap"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:certificates.k8s.io:certificatesigningrequests:nodeclient"}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: "system:bootstrappers:nodeagent"}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "nodeagent:node-autoapprove-certificate-rotation"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient"}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: "system:nodes"}]
`

// bootstrapTokenYAML is a bootstrap token's Secret for id and secret, in
// the group system:bootstrappers:<group>.
func bootstrapTokenYAML(id, secret, group string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata: {name: bootstrap-token-%s, namespace: kube-system}
type: bootstrap.kubernetes.io/token
stringData:
  token-id: %s
  token-secret: %s
  expiration: %s
  usage-bootstrap-authentication: "true"
  auth-extra-groups: system:bootstrappers:%s
`, id, id, secret, time.Now().Add(time.Hour).UTC().Format(time.RFC3339), group)
}

// randomToken is n characters of [a-z0-9], a bootstrap token part.
func randomToken(t *testing.T, n int) string {
	t.Helper()
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// signingDuration is kube-controller-manager's --cluster-signing-duration
// here. Its signer backdates short-lived certificates by 5 minutes, so a
// certificate is valid 7 minutes and the agent renews it 70-90 % in:
// -0.1 to 1.3 minutes after it was issued; the old one expires 2 minutes
// after it was issued.
const signingDuration = 2 * time.Minute

// TestCompatAgentBootstrapsOnRealControlPlane: the agent joins a real
// control plane as kubelet does with TLS bootstrapping, and rotates its
// client certificate. kube-apiserver authenticates bootstrap tokens, and
// kube-controller-manager's csrapproving and csrsigning controllers
// approve and sign node client certificates (the cluster CA,
// --cluster-signing-duration 2m) for the RBAC kubeadm makes. The agent
// starts with only a bootstrap kubeconfig (before it, one whose token's
// group is not auto-approved waits, is denied by kubectl and stops with the
// reason, writing nothing): its CSR (requested as
// system:bootstrap:<id>) is approved and issued, it writes its kubeconfig
// and the pair in --cert-dir, and the Node registers and goes Ready as
// system:node:<name> (NodeRestriction admits no one else). Then the agent
// renews its certificate with its own credentials (a second CSR, by
// system:node:<name>), the pair on disk has a new serial, and past the
// first certificate's expiry the same agent process keeps renewing the
// Node's Lease: it uses the new certificate without a restart.
func TestCompatAgentBootstrapsOnRealControlPlane(t *testing.T) {
	node, pki, k, milestone := newCompatControlPlane(t, func(pki controlPlanePKI) controlPlaneArgs {
		return controlPlaneArgs{
			apiserver: []string{"--enable-bootstrap-token-auth=true"},
			controllerManager: []string{"--cluster-signing-cert-file=" + pki.caCert(), "--cluster-signing-key-file=" + pki.path("ca.key"),
				"--cluster-signing-duration=" + signingDuration.String()},
		}
	})
	tokenID, tokenSecret := randomToken(t, 6), randomToken(t, 16)
	k.ok(bootstrapTokenYAML(tokenID, tokenSecret, "nodeagent")+"---\n"+bootstrapRBACYAML, "apply", "-f", "-")
	milestone("control plane ready; bootstrap token and kubeadm's RBAC made")

	caPEM, err := os.ReadFile(pki.caCert())
	if err != nil {
		t.Fatal(err)
	}
	dirs := framework.NewNodeDirs(t, node, nodeName)
	checkDeniedBootstrap(t, node, k, pki, caPEM, dirs)
	milestone("a bootstrap whose CSR was denied stopped with the reason and wrote nothing")

	dir := t.TempDir()
	bootKubeconfig, nodeKubeconfig, certDir := filepath.Join(dir, "bootstrap.kubeconfig"), filepath.Join(dir, "kubelet.kubeconfig"), filepath.Join(dir, "pki")
	if err := certs.WriteKubeconfig(bootKubeconfig, certs.Kubeconfig(pki.server, "bootstrap", caPEM, nil, tokenID+"."+tokenSecret)); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"agent", "--bootstrap-kubeconfig", bootKubeconfig, "--kubeconfig", nodeKubeconfig, "--cert-dir", certDir,
		"--proxy-kubeconfig", pki.kubeconfig("kube-proxy"), "--node-ip", apiAddr}, dirs.AgentArgs(nodeName)...)
	agent := framework.StartProcess(t, node, "agent", args...)
	pid := agent.PID()
	framework.Eventually(t, 90*time.Second, 250*time.Millisecond, "the Node Ready", func() error {
		return nodeReady(k, nodeName)
	})
	milestone("bootstrapped: the Node registered and Ready")

	first := checkBootstrapCSR(t, k, tokenID)
	checkCertDir(t, certDir, nodeKubeconfig)
	onDisk := readCurrentPair(t, certDir)
	if onDisk.Subject.CommonName != "system:node:"+nodeName || strings.Join(onDisk.Subject.Organization, ",") != "system:nodes" {
		t.Errorf("the issued certificate's subject: %v", onDisk.Subject)
	}
	if err := onDisk.CheckSignatureFrom(readCert(t, caPEM)); err != nil {
		t.Errorf("the issued certificate is not the cluster CA's: %v", err)
	}
	t.Logf("first certificate: serial %x, valid %s to %s", first.SerialNumber, first.NotBefore.Format(time.TimeOnly), first.NotAfter.Format(time.TimeOnly))

	framework.Eventually(t, 3*time.Minute, time.Second, "a rotated certificate on disk", func() error {
		if cur := readCurrentPair(t, certDir); cur.SerialNumber.Cmp(first.SerialNumber) == 0 {
			return fmt.Errorf("still serial %x", cur.SerialNumber)
		}
		return nil
	})
	rotated := readCurrentPair(t, certDir)
	milestone(fmt.Sprintf("rotated: serial %x, valid to %s", rotated.SerialNumber, rotated.NotAfter.Format(time.TimeOnly)))
	checkRenewalCSR(t, k)

	// Past the first certificate's expiry, kube-apiserver refuses it: a
	// Lease renewed after that was renewed with the new one.
	framework.Eventually(t, 3*time.Minute, time.Second, "a Lease renewal after the first certificate expired", func() error {
		out := k.ok("", "get", "lease", "-n", "kube-node-lease", nodeName, "-o", "jsonpath={.spec.renewTime}")
		renewed, err := time.Parse(time.RFC3339Nano, out)
		if err != nil {
			return fmt.Errorf("renewTime %q: %v", out, err)
		}
		if !renewed.After(first.NotAfter.Add(time.Second)) {
			return fmt.Errorf("renewed at %s, the first certificate expires at %s", renewed.Format(time.TimeOnly), first.NotAfter.Format(time.TimeOnly))
		}
		return nil
	})
	if err := nodeReady(k, nodeName); err != nil {
		t.Error(err)
	}
	if now := agent.PID(); now != pid || !processAlive(pid) {
		t.Errorf("the agent process: pid %d at start, %d now (alive %v)", pid, now, processAlive(pid))
	}
	milestone("the Lease renewed after the first certificate expired, by the same agent process")
	log := agent.Log()
	checkAgentLog(t, log)
	for _, bad := range []string{"Unauthorized", "rotation failed", "certificate has expired"} {
		if strings.Contains(log, bad) {
			t.Errorf("the agent log has %q", bad)
		}
	}
	if !strings.Contains(log, "client certificate rotated") {
		t.Error("the agent log does not say the certificate rotated")
	}
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "component=certificate") {
			t.Log(line)
		}
	}
}

// checkBootstrapCSR: the node's first CSR, node-csr-*, was requested with
// the bootstrap token, for kubelet's signer, approved by the controller
// manager and issued; it returns the certificate.
func checkBootstrapCSR(t *testing.T, k *kctl, tokenID string) *x509.Certificate {
	t.Helper()
	out := k.ok("", "get", "csr", "-o", `jsonpath={range .items[*]}{.metadata.name} {.spec.username} {.spec.signerName} {.status.conditions[0].type} {.status.certificate}{"\n"}{end}`)
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "node-csr-") {
			continue
		}
		if f[1] != "system:bootstrap:"+tokenID || f[2] != "kubernetes.io/kube-apiserver-client-kubelet" || f[3] != "Approved" || len(f) != 5 {
			t.Fatalf("the bootstrap CSR: %.200s, want by system:bootstrap:%s for kubelet's signer, Approved, issued", line, tokenID)
		}
		der, err := base64.StdEncoding.DecodeString(f[4])
		if err != nil {
			t.Fatal(err)
		}
		return readCert(t, der)
	}
	t.Fatalf("no node-csr-* CSR in %q", out)
	return nil
}

// checkRenewalCSR: a CSR by the node itself (not node-csr-*) was approved.
func checkRenewalCSR(t *testing.T, k *kctl) {
	t.Helper()
	out := k.ok("", "get", "csr", "-o", `jsonpath={range .items[*]}{.metadata.name} {.spec.username} {.status.conditions[0].type}{"\n"}{end}`)
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if f := strings.Fields(line); len(f) == 3 && !strings.HasPrefix(f[0], "node-csr-") && f[1] == "system:node:"+nodeName && f[2] == "Approved" {
			return
		}
	}
	t.Errorf("no approved renewal CSR by system:node:%s in:\n%s", nodeName, out)
}

// checkCertDir: the cert dir is 0700, the current pair a symlink to a
// 0600 dated file, and the kubeconfig the agent wrote (0600) names it.
func checkCertDir(t *testing.T, certDir, kubeconfig string) {
	t.Helper()
	modes := map[string]os.FileMode{certDir: 0o700, kubeconfig: 0o600}
	current := filepath.Join(certDir, "kubelet-client-current.pem")
	target, err := os.Readlink(current)
	if err != nil || !strings.HasPrefix(target, "kubelet-client-2") {
		t.Errorf("%s -> %q (%v), want a dated pair", current, target, err)
	} else {
		modes[filepath.Join(certDir, target)] = 0o600
	}
	for path, want := range modes {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v %v, want mode %v", path, fi, err, want)
		}
	}
	data, err := os.ReadFile(kubeconfig)
	if err != nil || !strings.Contains(string(data), "client-certificate: "+current) || !strings.Contains(string(data), "client-key: "+current) {
		t.Errorf("the written kubeconfig (%v):\n%s", err, data)
	}
}

// readCurrentPair is the certificate of the cert dir's current pair.
func readCurrentPair(t *testing.T, certDir string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(certDir, "kubelet-client-current.pem"))
	if err != nil {
		t.Fatal(err)
	}
	return readCert(t, data)
}

// readCert is the first certificate in PEM data.
func readCert(t *testing.T, data []byte) *x509.Certificate {
	t.Helper()
	for {
		var block *pem.Block
		if block, data = pem.Decode(data); block == nil {
			t.Fatal("no PEM certificate")
		}
		if block.Type == "CERTIFICATE" {
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
	}
}

// processAlive: pid runs (and is not a zombie).
func processAlive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(stat), ')')
	return i > 0 && len(stat) > i+2 && stat[i+2] != 'Z'
}

// manualApprovalRBACYAML lets the group system:bootstrappers:manual ask
// for node client certificates, with no auto-approval.
const manualApprovalRBACYAML = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "nodeagent:manual-bootstrap"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:node-bootstrapper"}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: "system:bootstrappers:manual"}]
`

// checkDeniedBootstrap: an agent whose bootstrap token's group is not
// auto-approved waits on its CSR; an admin denies it (kubectl certificate
// deny); the agent stops with the denial and its reason, and writes no
// kubeconfig. The CSR is deleted after.
func checkDeniedBootstrap(t *testing.T, node *lab.Node, k *kctl, pki controlPlanePKI, caPEM []byte, dirs framework.NodeDirs) {
	t.Helper()
	id, secret := randomToken(t, 6), randomToken(t, 16)
	k.ok(bootstrapTokenYAML(id, secret, "manual")+"---\n"+manualApprovalRBACYAML, "apply", "-f", "-")
	dir := t.TempDir()
	boot, kubeconfig := filepath.Join(dir, "bootstrap.kubeconfig"), filepath.Join(dir, "kubelet.kubeconfig")
	if err := certs.WriteKubeconfig(boot, certs.Kubeconfig(pki.server, "bootstrap", caPEM, nil, id+"."+secret)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, framework.Binary(t), append(append([]string{"agent"}, dirs.AgentArgs(nodeName)...),
		"--node-name", nodeName+"-denied", "--bootstrap-kubeconfig", boot, "--kubeconfig", kubeconfig, "--cert-dir", filepath.Join(dir, "pki"))...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	done := make(chan error, 1)
	go func() { done <- node.Run(cmd) }()
	var name string
	framework.Eventually(t, 60*time.Second, 250*time.Millisecond, "the pending CSR of system:bootstrap:"+id, func() error {
		name = k.ok("", "get", "csr", "-o", `jsonpath={range .items[?(@.spec.username=="system:bootstrap:`+id+`")]}{.metadata.name}{end}`)
		if name == "" {
			return fmt.Errorf("none yet")
		}
		return nil
	})
	if cond := k.ok("", "get", "csr", name, "-o", "jsonpath={.status.conditions}"); cond != "" {
		t.Errorf("the CSR of a group with no auto-approval has conditions: %s", cond)
	}
	k.ok("", "certificate", "deny", name)
	err := <-done
	if err == nil || !strings.Contains(out.String(), "certificate signing request "+name+": denied: KubectlDeny") {
		t.Errorf("the agent whose CSR was denied: %v\n%s", err, out.String())
	}
	if lines := strings.Split(strings.TrimSpace(out.String()), "\n"); err != nil {
		t.Logf("the denied agent: %v: %s", err, lines[len(lines)-1])
	}
	if _, err := os.Stat(kubeconfig); !os.IsNotExist(err) {
		t.Errorf("a kubeconfig was written after the denial: %v", err)
	}
	k.ok("", "delete", "csr", name)
}
