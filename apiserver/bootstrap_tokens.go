package apiserver

import (
	"context"
	"crypto/subtle"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodeagent/nodeagent/apiserver/auth"
	"github.com/nodeagent/nodeagent/apiserver/storage"
)

// Bootstrap token Secrets, as kube's (k8s.io/cluster-bootstrap's names).
const (
	bootstrapTokenSecretType   corev1.SecretType = "bootstrap.kubernetes.io/token"
	bootstrapTokenSecretPrefix                   = "bootstrap-token-"
	bootstrapTokenID                             = "token-id"
	bootstrapTokenSecret                         = "token-secret"
	bootstrapTokenExpiration                     = "expiration"
	bootstrapTokenUsageAuth                      = "usage-bootstrap-authentication"
	bootstrapTokenExtraGroups                    = "auth-extra-groups"
)

// bootstrapTokens authenticates "<id>.<secret>" against the Secret
// kube-system/bootstrap-token-<id>, as kube-apiserver's
// --enable-bootstrap-token-auth: of the bootstrap type, not being deleted,
// the same id and secret, usable for authentication, not expired. The
// user is system:bootstrap:<id>, in system:bootstrappers and the token's
// extra groups (each system:bootstrappers:...).
type bootstrapTokens struct{ s *Server }

func (b bootstrapTokens) AuthenticateBootstrap(ctx context.Context, token string) (*auth.User, error) {
	id, secret, _ := strings.Cut(token, ".")
	res, _ := b.s.reg.lookup("", "v1", "secrets")
	obj, err := b.s.store(res).Get(ctx, "kube-system", bootstrapTokenSecretPrefix+id)
	if storage.IsNotFound(err) {
		return nil, auth.ErrUnauthorized
	}
	if err != nil {
		return nil, err
	}
	groups, ok := bootstrapTokenGroups(obj.(*corev1.Secret), id, secret, b.s.now())
	if !ok {
		return nil, auth.ErrUnauthorized
	}
	return &auth.User{Name: auth.BootstrapUserPrefix + id, Groups: groups}, nil
}

// bootstrapTokenGroups checks the Secret against the token and returns the
// token's groups.
func bootstrapTokenGroups(sec *corev1.Secret, id, secret string, now time.Time) ([]string, bool) {
	d := sec.Data
	if sec.Type != bootstrapTokenSecretType || sec.DeletionTimestamp != nil ||
		string(d[bootstrapTokenID]) != id || string(d[bootstrapTokenUsageAuth]) != "true" ||
		subtle.ConstantTimeCompare(d[bootstrapTokenSecret], []byte(secret)) != 1 {
		return nil, false
	}
	if exp := string(d[bootstrapTokenExpiration]); exp != "" {
		t, err := time.Parse(time.RFC3339, exp)
		if err != nil || !now.Before(t) {
			return nil, false
		}
	}
	groups := []string{auth.GroupBootstrappers}
	if extra := strings.TrimSpace(string(d[bootstrapTokenExtraGroups])); extra != "" {
		for _, g := range strings.Split(extra, ",") {
			g = strings.TrimSpace(g)
			if !strings.HasPrefix(g, auth.GroupBootstrappers+":") {
				return nil, false
			}
			groups = append(groups, g)
		}
	}
	return groups, true
}
