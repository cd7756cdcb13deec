package certs

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// PinHash is a CA's pin as kubeadm writes it
// (--discovery-token-ca-cert-hash): "sha256:" and the hex SHA-256 of the
// certificate's SubjectPublicKeyInfo.
func PinHash(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// DiscoverCA connects to the API server at serverURL, reads the chain its
// TLS handshake presents and returns the CA certificate in it whose
// PinHash is pin, once the serving certificate verifies against that CA
// for the URL's host. Nothing but the handshake is sent: a server that
// cannot prove it holds a key the pinned CA signed never sees a token.
func DiscoverCA(ctx context.Context, serverURL, pin string, dial func(ctx context.Context, network, addr string) (net.Conn, error)) (*x509.Certificate, error) {
	if !strings.HasPrefix(pin, "sha256:") || len(pin) != len("sha256:")+64 {
		return nil, fmt.Errorf("CA pin %q: want sha256:<64 hex digits>", pin)
	}
	u, err := url.Parse(serverURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("server URL %q: want https://HOST:PORT", serverURL)
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "443"
	}
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	raw, err := dial(ctx, "tcp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, err
	}
	defer raw.Close()
	// The chain is checked below against the pinned CA, not the system roots.
	conn := tls.Client(raw, &tls.Config{InsecureSkipVerify: true, ServerName: host, MinVersion: tls.VersionTLS12}) //nolint:gosec
	if err := conn.HandshakeContext(ctx); err != nil {
		return nil, fmt.Errorf("TLS handshake with %s: %w", u.Host, err)
	}
	chain := conn.ConnectionState().PeerCertificates
	for _, c := range chain {
		if !c.IsCA || PinHash(c) != pin {
			continue
		}
		roots := x509.NewCertPool()
		roots.AddCert(c)
		inter := x509.NewCertPool()
		for _, i := range chain[1:] {
			inter.AddCert(i)
		}
		if _, err := chain[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: host}); err != nil {
			return nil, fmt.Errorf("the server's certificate does not verify against the pinned CA: %w", err)
		}
		return c, nil
	}
	return nil, errors.New("no CA certificate with the pinned hash in the server's TLS chain: a wrong --discovery-token-ca-cert-hash, or not this cluster's server")
}

// ParseCertPEM is the first CERTIFICATE of a PEM bundle.
func ParseCertPEM(data []byte) (*x509.Certificate, error) {
	for rest := data; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			return nil, errors.New("no CERTIFICATE PEM block")
		}
		if block.Type == "CERTIFICATE" {
			return x509.ParseCertificate(block.Bytes)
		}
	}
}
