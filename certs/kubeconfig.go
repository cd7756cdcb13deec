package certs

import (
	"encoding/base64"
	"fmt"
)

// Kubeconfig renders a kubeconfig for one cluster and one user. A user is
// authenticated by a client certificate (kp) or, when kp is nil, a token.
func Kubeconfig(server, name string, caPEM []byte, kp *KeyPair, token string) []byte {
	b64 := base64.StdEncoding.EncodeToString
	user := fmt.Sprintf("    token: %s\n", token)
	if kp != nil {
		user = fmt.Sprintf("    client-certificate-data: %s\n    client-key-data: %s\n", b64(kp.CertPEM), b64(kp.KeyPEM))
	}
	return []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: nodeagent
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: %s
  user:
%scontexts:
- name: %s@nodeagent
  context:
    cluster: nodeagent
    user: %s
current-context: %s@nodeagent
`, server, b64(caPEM), name, user, name, name, name))
}

// WriteKubeconfig writes a kubeconfig readable only by its owner (0600).
func WriteKubeconfig(path string, data []byte) error {
	return writeFile(path, data, 0o600)
}
