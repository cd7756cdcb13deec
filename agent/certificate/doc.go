// Package certificate is the node's client certificate, as kubelet keeps
// it: TLS bootstrapping (bootstrap.go) asks for the first certificate with
// a bootstrap token through a certificates.k8s.io/v1
// CertificateSigningRequest (csr.go) when the node's kubeconfig has none
// that is valid, and the Manager (rotate.go) asks for the next one with
// the node's own credentials when 70–90 % of the current one's lifetime
// has passed, and hands it to the node's clients without a restart
// (transport.go: a tls.Config that asks the Manager for the certificate on
// each handshake, and a dialer whose connections are closed on a swap).
// A certificate that expired and that the API server still refuses to
// renew 5 minutes later ends Run with ErrExpired when the node can
// bootstrap again (kubelet exits then).
//
// Every pair lives in one directory (Store, store.go), 0700, as kubelet's
// --cert-dir: kubelet-client-<time>.pem (key and certificate, 0600) and
// the symlink kubelet-client-current.pem, swapped by a rename, which the
// kubeconfig the bootstrap writes points at.
package certificate
