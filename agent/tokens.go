package agent

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"

	"github.com/nodeagent/nodeagent/volumes"
)

// tokenManager gets the service account tokens of projected volumes from
// the API server's TokenRequest API (serviceaccounts/<name>/token, which
// the node may call only for a pod bound to it), each bound to its pod,
// and keeps them until they are due for rotation as kubelet's token
// manager does: at 80% of their lifetime, or after 24 hours.
type tokenManager struct {
	client kubernetes.Interface
	clock  clock.PassiveClock
	mu     sync.Mutex
	cache  map[tokenKey]*authenticationv1.TokenRequest
}

type tokenKey struct {
	namespace, serviceAccount, audiences string
	expirationSeconds                    int64
	pod                                  types.UID
}

// maxTokenAge is how long kubelet keeps a token whatever its expiry.
const maxTokenAge = 24 * time.Hour

// defaultTokenExpiration is the API's default for expirationSeconds.
const defaultTokenExpiration = 3600

func newTokenManager(client kubernetes.Interface, clk clock.PassiveClock) *tokenManager {
	return &tokenManager{client: client, clock: clk, cache: map[tokenKey]*authenticationv1.TokenRequest{}}
}

// files is a serviceAccountToken projection: one file with the pod's token.
func (m *tokenManager) files(ctx context.Context, pod *corev1.Pod, src *corev1.ServiceAccountTokenProjection, mode int32) (map[string]volumes.File, error) {
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	exp := int64(defaultTokenExpiration)
	if src.ExpirationSeconds != nil {
		exp = *src.ExpirationSeconds
	}
	var audiences []string
	if src.Audience != "" {
		audiences = []string{src.Audience}
	}
	tok, err := m.token(ctx, pod, sa, audiences, exp)
	if err != nil {
		return nil, fmt.Errorf("failed to fetch token: %w", err)
	}
	return map[string]volumes.File{src.Path: {Data: []byte(tok), Mode: os.FileMode(mode) & os.ModePerm}}, nil
}

// token returns a cached token, or a new one when the cached one is due.
func (m *tokenManager) token(ctx context.Context, pod *corev1.Pod, sa string, audiences []string, exp int64) (string, error) {
	k := tokenKey{namespace: pod.Namespace, serviceAccount: sa, audiences: strings.Join(sorted(audiences), ","), expirationSeconds: exp, pod: pod.UID}
	m.mu.Lock()
	old, ok := m.cache[k]
	m.mu.Unlock()
	if ok && !m.due(old) {
		return old.Status.Token, nil
	}
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{Audiences: audiences, ExpirationSeconds: &exp,
		BoundObjectRef: &authenticationv1.BoundObjectReference{APIVersion: "v1", Kind: "Pod", Name: pod.Name, UID: pod.UID}}}
	tr, err := m.client.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(ctx, sa, req, metav1.CreateOptions{})
	if err != nil {
		if ok && m.clock.Now().Before(old.Status.ExpirationTimestamp.Time) {
			return old.Status.Token, nil // still good: tried again at the next refresh
		}
		return "", err
	}
	if tr.Spec.ExpirationSeconds == nil {
		tr.Spec.ExpirationSeconds = &exp
	}
	m.mu.Lock()
	m.cache[k] = tr
	m.mu.Unlock()
	return tr.Status.Token, nil
}

// due: past 80% of the token's lifetime, or older than a day.
func (m *tokenManager) due(tr *authenticationv1.TokenRequest) bool {
	exp := tr.Status.ExpirationTimestamp.Time
	ttl := time.Duration(*tr.Spec.ExpirationSeconds) * time.Second
	issued := exp.Add(-ttl)
	now := m.clock.Now()
	return now.After(issued.Add(maxTokenAge)) || now.After(exp.Add(-ttl/5))
}

// forget drops the tokens of a pod that is gone.
func (m *tokenManager) forget(uid types.UID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.cache {
		if k.pod == uid {
			delete(m.cache, k)
		}
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
