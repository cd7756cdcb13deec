package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/nodeagent/nodeagent/apiserver"
	"github.com/nodeagent/nodeagent/certs"
)

// Join tokens are kubeadm's bootstrap tokens: a Secret
// kube-system/bootstrap-token-<id> that authenticates "<id>.<secret>" as
// system:bootstrap:<id> in the join group, which may ask for a node's
// client certificate and a kube-proxy one, both approved by the server.
const (
	joinTokenTTL         = 24 * time.Hour
	joinTokenDescription = "nodeagent join token"
	tokenChars           = "abcdefghijklmnopqrstuvwxyz0123456789"
)

// randomToken is a fresh "<6>.<16>" token of [a-z0-9].
func randomToken() (string, error) {
	b := make([]byte, 0, 23)
	for i := 0; i < 22; i++ {
		if i == 6 {
			b = append(b, '.')
		}
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(tokenChars))))
		if err != nil {
			return "", err
		}
		b = append(b, tokenChars[n.Int64()])
	}
	return string(b), nil
}

// createJoinToken stores a new join token that expires after ttl.
func createJoinToken(ctx context.Context, client kubernetes.Interface, ttl time.Duration, now time.Time) (string, error) {
	token, err := randomToken()
	if err != nil {
		return "", err
	}
	id, secret := token[:6], token[7:]
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "bootstrap-token-" + id, Namespace: "kube-system"},
		Type: "bootstrap.kubernetes.io/token",
		StringData: map[string]string{"token-id": id, "token-secret": secret, "description": joinTokenDescription,
			"expiration": now.Add(ttl).UTC().Format(time.RFC3339), "usage-bootstrap-authentication": "true",
			"usage-bootstrap-signing": "true", "auth-extra-groups": apiserver.JoinTokenGroup}}
	if _, err := client.CoreV1().Secrets("kube-system").Create(ctx, sec, metav1.CreateOptions{}); err != nil {
		return "", fmt.Errorf("create join token: %w", err)
	}
	return token, nil
}

// usableJoinToken is a join token of ours that lasts at least another
// hour, if there is one.
func usableJoinToken(ctx context.Context, client kubernetes.Interface, now time.Time) (string, bool) {
	list, err := client.CoreV1().Secrets("kube-system").List(ctx, metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("type", "bootstrap.kubernetes.io/token").String()})
	if err != nil {
		return "", false
	}
	for _, s := range list.Items {
		exp, err := time.Parse(time.RFC3339, string(s.Data["expiration"]))
		if string(s.Data["description"]) == joinTokenDescription && err == nil && exp.Sub(now) > time.Hour &&
			s.DeletionTimestamp == nil && string(s.Data["auth-extra-groups"]) == apiserver.JoinTokenGroup {
			return string(s.Data["token-id"]) + "." + string(s.Data["token-secret"]), true
		}
	}
	return "", false
}

// joinCommand is what a user runs on another machine to join it.
func joinCommand(serverURL, token string, caPEM []byte) (string, error) {
	ca, err := certs.ParseCertPEM(caPEM)
	if err != nil {
		return "", fmt.Errorf("cluster CA: %w", err)
	}
	return fmt.Sprintf("nodeagent join %s --token %s --discovery-token-ca-cert-hash %s", serverURL, token, certs.PinHash(ca)), nil
}

// runToken is `nodeagent token create`: a new join token, and the command
// that uses it, with the server's admin credentials in --data-dir.
func runToken(ctx context.Context, env *environment, args []string) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	dataDir := fs.String("data-dir", apiserver.DefaultConfig().DataDir, "the server's state directory (admin kubeconfig, CA)")
	ttl := fs.Duration("ttl", joinTokenTTL, "how long the token authenticates")
	server := fs.String("server", "", "API server URL to join (default: the admin kubeconfig's)")
	if len(args) < 1 || args[0] != "create" {
		return fmt.Errorf("usage: nodeagent token create [--data-dir DIR] [--ttl 24h] [--server URL]")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *ttl < time.Minute {
		return fmt.Errorf("--ttl %s: at least 1m", *ttl)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", filepath.Join(*dataDir, "admin.kubeconfig"))
	if err != nil {
		return err
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	if *server == "" {
		*server = cfg.Host
	}
	caPEM, err := os.ReadFile(filepath.Join(*dataDir, "pki", "ca.crt"))
	if err != nil {
		return fmt.Errorf("cluster CA: %w", err)
	}
	token, err := createJoinToken(ctx, client, *ttl, time.Now())
	if err != nil {
		return err
	}
	cmd, err := joinCommand(*server, token, caPEM)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(env.stdout, cmd)
	return err
}

// printJoinCommand waits until the API answers, takes a join token of ours
// that lasts another hour or makes one (24 h), and prints the command that
// joins another machine, as kubeadm init does.
func printJoinCommand(ctx context.Context, env *environment, srv *apiserver.Server) {
	cfg, err := srv.LoopbackConfig()
	var client kubernetes.Interface
	if err == nil {
		client, err = kubernetes.NewForConfig(cfg)
	}
	if err != nil {
		env.log.Warn("no join command", "err", err)
		return
	}
	var token string
	err = wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		var ok bool
		if token, ok = usableJoinToken(ctx, client, time.Now()); ok {
			return true, nil
		}
		token, err = createJoinToken(ctx, client, joinTokenTTL, time.Now())
		return err == nil, nil
	})
	if err != nil {
		env.log.Warn("no join command: making a join token failed", "err", err)
		return
	}
	caPEM, err := os.ReadFile(filepath.Join(srv.DataDir(), "pki", "ca.crt"))
	var cmd string
	if err == nil {
		cmd, err = joinCommand(srv.URL(), token, caPEM)
	}
	path := filepath.Join(srv.DataDir(), "join-command")
	if err == nil {
		err = os.WriteFile(path, []byte(cmd+"\n"), 0o600)
	}
	if err != nil {
		env.log.Warn("no join command", "err", err)
		return
	}
	// The token is a credential: on a terminal it is shown; a service's
	// output goes to the journal, which others may read, so there only
	// the file (root's alone) is named.
	if isTerminal(env.stderr) {
		fmt.Fprintf(env.stderr, "\nJoin another machine as a node (the token lasts up to 24 h; `nodeagent token create` makes another):\n  %s\n\n", cmd)
		return
	}
	env.log.Info("the command that joins another machine as a node is in "+path+" (root only); `nodeagent token create` makes another", "file", path)
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
