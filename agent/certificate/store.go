package certificate

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Store file names, kubelet's: client pairs are kubelet-client-<time>.pem,
// the current one is the symlink kubelet-client-current.pem, and the key
// of a request under way is kubelet-client.key.tmp; serving pairs are
// kubelet-server-<time>.pem and kubelet-server-current.pem.
const (
	ClientPrefix  = "kubelet-client"
	ServingPrefix = "kubelet-server"
	pendingKey    = ClientPrefix + ".key.tmp"
	pairTimeForm  = "2006-01-02-15-04-05"
)

// Store keeps the node's key pairs of one kind (Prefix; ClientPrefix when
// empty) in one directory.
type Store struct {
	Dir    string
	Prefix string
}

func (s Store) prefix() string {
	if s.Prefix == "" {
		return ClientPrefix
	}
	return s.Prefix
}

// CurrentPath is the path of the current pair (key and certificate in
// one PEM file), which kubeconfigs point at.
func (s Store) CurrentPath() string { return filepath.Join(s.Dir, s.prefix()+"-current.pem") }

// Current is the current pair; an error wrapping os.ErrNotExist when
// there is none.
func (s Store) Current() (*tls.Certificate, error) {
	return loadPair(s.CurrentPath())
}

// Update writes a new pair beside the others and makes it current: the
// file is written whole under a temporary name and renamed, then a new
// symlink replaces the current one by a rename, so a reader
// sees the old pair or the new one, never a part.
func (s Store) Update(certPEM, keyPEM []byte, now time.Time) (*tls.Certificate, error) {
	pair, err := parsePair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	if err := s.ensureDir(); err != nil {
		return nil, err
	}
	name := s.prefix() + "-" + now.UTC().Format(pairTimeForm) + ".pem"
	data := append(append([]byte{}, keyPEM...), certPEM...)
	if err := writeAtomic(filepath.Join(s.Dir, name), data); err != nil {
		return nil, err
	}
	link := s.CurrentPath() + ".new"
	if err := os.Remove(link); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("remove stale %s: %w", link, err)
	}
	if err := os.Symlink(name, link); err != nil {
		return nil, fmt.Errorf("link the new pair: %w", err)
	}
	if err := os.Rename(link, s.CurrentPath()); err != nil {
		return nil, fmt.Errorf("make the new pair current: %w", err)
	}
	return pair, nil
}

// ensureDir makes the directory 0700 (and refuses one others can read).
func (s Store) ensureDir() error {
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return fmt.Errorf("cert dir: %w", err)
	}
	fi, err := os.Stat(s.Dir)
	if err != nil {
		return fmt.Errorf("cert dir: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("cert dir %s is mode %v: others may read the node's keys (want 0700)", s.Dir, fi.Mode().Perm())
	}
	return nil
}

// writeAtomic writes data to path, 0600, through a temporary file in the
// same directory.
func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// loadPair reads a PEM file that holds both the key and the certificate.
func loadPair(path string) (*tls.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pair, err := parsePair(data, data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return pair, nil
}

// parsePair is the key pair with its Leaf parsed.
func parsePair(certPEM, keyPEM []byte) (*tls.Certificate, error) {
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("key pair: %w", err)
	}
	if pair.Leaf == nil {
		if pair.Leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return nil, fmt.Errorf("certificate: %w", err)
		}
	}
	return &pair, nil
}

// validAt: the certificate's validity period holds t.
func validAt(c *x509.Certificate, t time.Time) bool {
	return !t.Before(c.NotBefore) && !t.After(c.NotAfter)
}
