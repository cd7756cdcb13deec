package certificate

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"

	certificatesv1 "k8s.io/api/certificates/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
)

// SignerName is the signer of kubelets' client certificates, which
// kube-controller-manager's csrapproving controller approves for
// bootstrappers (nodeclient) and nodes renewing their own
// (selfnodeclient).
const SignerName = certificatesv1.KubeAPIServerClientKubeletSignerName

// clientUsages are a kubelet client certificate's: kube's approver and
// signer take exactly these (or with key encipherment, for RSA keys).
var clientUsages = []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth}

// ErrDenied and ErrFailed: the request was denied, or the signer failed it.
var (
	ErrDenied = errors.New("denied")
	ErrFailed = errors.New("failed")
)

// ServingSignerName is the signer of kubelets' serving certificates. kube
// approves none of these by itself; nodeagent's server approves a node's
// request for its own names (controllers/certificates).
const ServingSignerName = certificatesv1.KubeletServingSignerName

// servingUsages are a kubelet serving certificate's for an ECDSA key.
var servingUsages = []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageServerAuth}

// request is one certificate signing request to make.
type request struct {
	// name is the CSR's name; generateName is used when it is empty.
	name, generateName string
	key                crypto.Signer
	subject            pkix.Name
	signer             string
	usages             []certificatesv1.KeyUsage
	names              Names // subjectAltNames (serving certificates)
}

// Names are the DNS names and IP addresses a serving certificate is for.
type Names struct {
	DNS []string
	IPs []net.IP
}

// nodeRequest is the node's own client certificate request.
func nodeRequest(name, generateName string, key crypto.Signer, nodeName string) request {
	return request{name: name, generateName: generateName, key: key, subject: nodeSubject(nodeName), signer: SignerName, usages: clientUsages}
}

// servingRequest is the node's request for a serving certificate for names.
func servingRequest(key crypto.Signer, nodeName string, names Names) request {
	return request{generateName: "csr-", key: key, subject: nodeSubject(nodeName), signer: ServingSignerName, usages: servingUsages, names: names}
}

// RequestClientCertificate asks signer for a client certificate of
// subject for key (a CSR named generateName plus a suffix) and waits until
// it is issued, denied or failed, or ctx ends: what `nodeagent join` asks
// for its proxy's identity.
func RequestClientCertificate(ctx context.Context, client kubernetes.Interface, key crypto.Signer, subject pkix.Name, signer, generateName string, log *slog.Logger) ([]byte, error) {
	return requestCertificate(ctx, client, request{generateName: generateName, key: key, subject: subject, signer: signer, usages: clientUsages}, log)
}

// newKey is a new ECDSA P-256 key, as kubelet's.
func newKey() (*ecdsa.PrivateKey, error) {
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

// nodeSubject is the subject kube's Node authorizer knows a kubelet by.
func nodeSubject(nodeName string) pkix.Name {
	return pkix.Name{CommonName: "system:node:" + nodeName, Organization: []string{"system:nodes"}}
}

// csrPEM is the PEM of an x509 certificate request for subject and names,
// signed with key.
func csrPEM(key crypto.Signer, subject pkix.Name, names Names) ([]byte, error) {
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: subject, DNSNames: names.DNS, IPAddresses: names.IPs}, key)
	if err != nil {
		return nil, fmt.Errorf("certificate request: %w", err)
	}
	return pemBlock("CERTIFICATE REQUEST", der), nil
}

// digestedName is the bootstrap CSR's name, kubelet's node-csr-<digest>:
// the same key and node give the same name, so an agent restarted while
// it waits finds its request again.
func digestedName(key crypto.Signer, nodeName string) (string, error) {
	pub, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return "", err
	}
	h := sha512.New512_256()
	h.Write(pub)
	h.Write([]byte{0})
	h.Write([]byte(nodeName))
	return "node-csr-" + base64.RawURLEncoding.EncodeToString(h.Sum(nil)), nil
}

// requestCertificate submits the request and waits until its certificate
// is issued (ctx bounds the wait), and returns the certificate's PEM. A
// request of the same name made before with the same key is waited on.
func requestCertificate(ctx context.Context, client kubernetes.Interface, r request, log *slog.Logger) ([]byte, error) {
	reqPEM, err := csrPEM(r.key, r.subject, r.names)
	if err != nil {
		return nil, err
	}
	csr, err := submit(ctx, client, r, reqPEM)
	if err != nil {
		return nil, err
	}
	log.Info("certificate signing request submitted; waiting for it to be approved and issued", "csr", csr.Name, "signer", r.signer)
	cert, err := waitForCertificate(ctx, client, csr.Name, csr.UID)
	if err != nil {
		return nil, fmt.Errorf("certificate signing request %s: %w", csr.Name, err)
	}
	log.Info("certificate signing request approved and issued", "csr", csr.Name)
	return cert, nil
}

// submit creates the CSR, or finds the one of the same name this key made.
func submit(ctx context.Context, client kubernetes.Interface, r request, reqPEM []byte) (*certificatesv1.CertificateSigningRequest, error) {
	csrs := client.CertificatesV1().CertificateSigningRequests()
	csr := &certificatesv1.CertificateSigningRequest{
		ObjectMeta: metav1.ObjectMeta{Name: r.name, GenerateName: r.generateName},
		Spec:       certificatesv1.CertificateSigningRequestSpec{Request: reqPEM, SignerName: r.signer, Usages: r.usages},
	}
	made, err := csrs.Create(ctx, csr, metav1.CreateOptions{})
	if err == nil {
		return made, nil
	}
	if !apierrors.IsAlreadyExists(err) || r.name == "" {
		return nil, fmt.Errorf("create certificate signing request: %w", err)
	}
	old, err := csrs.Get(ctx, r.name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("get certificate signing request %s: %w", r.name, err)
	}
	if err := sameKey(old, r.key, r.signer); err != nil {
		return nil, fmt.Errorf("certificate signing request %s exists: %w", r.name, err)
	}
	return old, nil
}

// sameKey: the existing request is for key's public half and kubelet's
// signer.
func sameKey(csr *certificatesv1.CertificateSigningRequest, key crypto.Signer, signer string) error {
	parsed, err := parseRequest(csr)
	if err != nil {
		return fmt.Errorf("its request: %w", err)
	}
	pub, ok := parsed.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(key.Public()) || csr.Spec.SignerName != signer {
		return errors.New("it is for another key or signer")
	}
	return nil
}

// waitForCertificate watches the CSR until it is issued, denied or
// failed, or ctx ends.
func waitForCertificate(ctx context.Context, client kubernetes.Interface, name string, uid types.UID) ([]byte, error) {
	csrs := client.CertificatesV1().CertificateSigningRequests()
	selector := fields.OneTermEqualSelector("metadata.name", name).String()
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.FieldSelector = selector
			return csrs.List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.FieldSelector = selector
			return csrs.Watch(ctx, o)
		},
	}
	var cert []byte
	_, err := watchtools.UntilWithSync(ctx, cache.ToListWatcherWithWatchListSemantics(lw, client), &certificatesv1.CertificateSigningRequest{}, nil, func(ev watch.Event) (bool, error) {
		csr, ok := ev.Object.(*certificatesv1.CertificateSigningRequest)
		if !ok || csr.Name != name {
			return false, nil
		}
		if ev.Type == watch.Deleted {
			return false, fmt.Errorf("deleted before it was issued")
		}
		if csr.UID != uid {
			return false, fmt.Errorf("replaced by another request of the same name (uid %s, want %s)", csr.UID, uid)
		}
		c, err := issued(csr)
		cert = c
		return c != nil, err
	})
	if err != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("not issued in time: %w", err)
	}
	return cert, err
}

// issued is the CSR's certificate once it is approved and signed; nil
// while it waits; ErrDenied or ErrFailed with the condition's reason and
// message.
func issued(csr *certificatesv1.CertificateSigningRequest) ([]byte, error) {
	approved := false
	for _, c := range csr.Status.Conditions {
		switch c.Type {
		case certificatesv1.CertificateDenied:
			return nil, fmt.Errorf("%w: %s: %s", ErrDenied, c.Reason, c.Message)
		case certificatesv1.CertificateFailed:
			return nil, fmt.Errorf("%w: %s: %s", ErrFailed, c.Reason, c.Message)
		case certificatesv1.CertificateApproved:
			approved = true
		}
	}
	if !approved || len(csr.Status.Certificate) == 0 {
		return nil, nil
	}
	return csr.Status.Certificate, nil
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// parseRequest is the CSR's x509 certificate request.
func parseRequest(csr *certificatesv1.CertificateSigningRequest) (*x509.CertificateRequest, error) {
	block, _ := pem.Decode(csr.Spec.Request)
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return nil, errors.New("not a PEM certificate request")
	}
	return x509.ParseCertificateRequest(block.Bytes)
}
