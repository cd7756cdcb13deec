package certificates

import (
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	certlisters "k8s.io/client-go/listers/certificates/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
)

// CA signs requests: the cluster CA (certs.CA).
type CA interface {
	SignRequest(req *x509.CertificateRequest, usage x509.KeyUsage, ext []x509.ExtKeyUsage, notBefore, notAfter time.Time) ([]byte, error)
}

// DefaultDuration is how long issued certificates last unless the request
// asks for less (kube-controller-manager's --cluster-signing-duration).
const DefaultDuration = 365 * 24 * time.Hour

// backdate is how far before now a certificate starts, for clocks a little
// behind (kube's 5 minutes).
const backdate = 5 * time.Minute

// Signer issues approved requests of the signers the cluster CA backs
// (kube's csrsigning controller). Work keys are CSR names.
type Signer struct {
	client   kubernetes.Interface
	ca       CA
	duration time.Duration
	csrs     certlisters.CertificateSigningRequestLister
	synced   []cache.InformerSynced
	queue    workqueue.TypedRateLimitingInterface[string]
	clock    clock.WithTicker
	log      *slog.Logger
}

// NewSigner wires the signer to the CSR informer; duration 0 is
// DefaultDuration.
func NewSigner(client kubernetes.Interface, factory informers.SharedInformerFactory, ca CA, duration time.Duration, log *slog.Logger, clk clock.WithTicker) *Signer {
	if duration <= 0 {
		duration = DefaultDuration
	}
	inf := factory.Certificates().V1().CertificateSigningRequests()
	s := &Signer{client: client, ca: ca, duration: duration, csrs: inf.Lister(), synced: []cache.InformerSynced{inf.Informer().HasSynced},
		queue: newQueue(clk), clock: clk, log: log}
	inf.Informer().AddEventHandler(csrHandler(s.queue))
	return s
}

// Run signs until ctx ends.
func (s *Signer) Run(ctx context.Context) {
	runLoop(ctx, s.queue, s.synced, s.sync, s.log, s.clock, s.csrs)
}

func (s *Signer) sync(ctx context.Context, name string) error {
	csr, err := s.csrs.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil || len(csr.Status.Certificate) > 0 || !condition(csr, certificatesv1.CertificateApproved) ||
		condition(csr, certificatesv1.CertificateFailed) {
		return err
	}
	rule, ok := signerRules[csr.Spec.SignerName]
	if !ok {
		return nil // another signer's
	}
	req, err := parse(csr)
	if err == nil {
		err = rule(req, csr.Spec.Usages)
	}
	csr = csr.DeepCopy()
	now := s.clock.Now()
	if err != nil {
		csr.Status.Conditions = append(csr.Status.Conditions, certificatesv1.CertificateSigningRequestCondition{
			Type: certificatesv1.CertificateFailed, Status: corev1.ConditionTrue, Reason: "SignerValidationFailure",
			Message: err.Error(), LastUpdateTime: metav1.NewTime(now), LastTransitionTime: metav1.NewTime(now)})
		return s.updateStatus(ctx, csr, "failed", err.Error())
	}
	usage, ext := keyUsages(csr.Spec.Usages)
	pemCert, err := s.ca.SignRequest(req, usage, ext, now.Add(-backdate), now.Add(s.durationOf(csr)))
	if err != nil {
		return err
	}
	csr.Status.Certificate = pemCert
	return s.updateStatus(ctx, csr, "issued", req.Subject.CommonName)
}

func (s *Signer) updateStatus(ctx context.Context, csr *certificatesv1.CertificateSigningRequest, what, detail string) error {
	if _, err := s.client.CertificatesV1().CertificateSigningRequests().UpdateStatus(ctx, csr, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("certificate signing request %s %s: %w", csr.Name, what, err)
	}
	s.log.Info("certificate signing request "+what, "name", csr.Name, "signer", csr.Spec.SignerName, "detail", detail)
	return nil
}

// durationOf is the request's expirationSeconds, at most the signer's
// duration.
func (s *Signer) durationOf(csr *certificatesv1.CertificateSigningRequest) time.Duration {
	if e := csr.Spec.ExpirationSeconds; e != nil {
		if d := time.Duration(*e) * time.Second; d < s.duration {
			return d
		}
	}
	return s.duration
}

// keyUsages maps a CSR's usages onto x509's.
func keyUsages(usages []certificatesv1.KeyUsage) (x509.KeyUsage, []x509.ExtKeyUsage) {
	var ku x509.KeyUsage
	var ext []x509.ExtKeyUsage
	for _, u := range usages {
		switch u {
		case certificatesv1.UsageDigitalSignature:
			ku |= x509.KeyUsageDigitalSignature
		case certificatesv1.UsageKeyEncipherment:
			ku |= x509.KeyUsageKeyEncipherment
		case certificatesv1.UsageClientAuth:
			ext = append(ext, x509.ExtKeyUsageClientAuth)
		case certificatesv1.UsageServerAuth:
			ext = append(ext, x509.ExtKeyUsageServerAuth)
		}
	}
	return ku, ext
}
