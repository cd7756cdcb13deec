package certificates

import (
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"sync"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	certlisters "k8s.io/client-go/listers/certificates/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	"github.com/nodeagent/nodeagent/controllers/internal/loop"
)

// resync is how often every request is looked at again.
const resync = 5 * time.Minute

// Approver approves node client certificate requests whose requester may
// have them (kube's csrapproving controller). Work keys are CSR names.
type Approver struct {
	client kubernetes.Interface
	csrs   certlisters.CertificateSigningRequestLister
	nodes  corelisters.NodeLister // for serving requests (serving.go)
	synced []cache.InformerSynced
	queue  workqueue.TypedRateLimitingInterface[string]
	clock  clock.WithTicker
	log    *slog.Logger

	mu   sync.Mutex
	told map[string]types.UID // serving requests whose wait was logged
}

// NewApprover wires the approver to the CSR and Node informers.
func NewApprover(client kubernetes.Interface, factory informers.SharedInformerFactory, log *slog.Logger, clk clock.WithTicker) *Approver {
	inf := factory.Certificates().V1().CertificateSigningRequests()
	nodes := factory.Core().V1().Nodes()
	a := &Approver{client: client, csrs: inf.Lister(), nodes: nodes.Lister(), clock: clk, log: log, queue: newQueue(clk),
		synced: []cache.InformerSynced{inf.Informer().HasSynced, nodes.Informer().HasSynced}, told: map[string]types.UID{}}
	inf.Informer().AddEventHandler(csrHandler(a.queue))
	nodes.Informer().AddEventHandler(a.nodeHandler())
	return a
}

func newQueue(clk clock.WithTicker) workqueue.TypedRateLimitingInterface[string] {
	return workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
		workqueue.TypedRateLimitingQueueConfig[string]{Clock: clk})
}

func csrHandler(q workqueue.TypedRateLimitingInterface[string]) cache.ResourceEventHandler {
	add := func(obj any) {
		if csr, ok := obj.(*certificatesv1.CertificateSigningRequest); ok {
			q.Add(csr.Name)
		}
	}
	return cache.ResourceEventHandlerFuncs{AddFunc: add, UpdateFunc: func(_, obj any) { add(obj) }}
}

// Run approves until ctx ends.
func (a *Approver) Run(ctx context.Context) {
	runLoop(ctx, a.queue, a.synced, a.sync, a.log, a.clock, a.csrs)
}

// runLoop is both controllers' loop: every request again at each resync.
func runLoop(ctx context.Context, q workqueue.TypedRateLimitingInterface[string], synced []cache.InformerSynced,
	sync func(context.Context, string) error, log *slog.Logger, clk clock.WithTicker, csrs certlisters.CertificateSigningRequestLister) {
	loop.Run(ctx, q, synced, sync, log, clk, resync, func() {
		all, _ := csrs.List(labels.Everything())
		for _, csr := range all {
			q.Add(csr.Name)
		}
	})
}

// sync approves one request if it is a pending node client request that
// its requester may make; anything else is left for someone else.
func (a *Approver) sync(ctx context.Context, name string) error {
	csr, err := a.csrs.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil || len(csr.Status.Certificate) > 0 ||
		condition(csr, certificatesv1.CertificateApproved) || condition(csr, certificatesv1.CertificateDenied) {
		return err
	}
	req, err := parse(csr)
	if err != nil {
		return nil // the signer fails what it cannot sign
	}
	sub, msg := recognize(csr, req)
	var ok bool
	switch node := servingNode(csr, req); {
	case node != "":
		ok, err = a.servingApproval(csr, req, node)
		msg = servingApprovalMessage
	case sub == "":
		return nil // not one to approve
	default:
		ok, err = a.allowed(ctx, csr, sub)
	}
	if err != nil || !ok {
		return err
	}
	csr = csr.DeepCopy()
	now := metav1.NewTime(a.clock.Now())
	csr.Status.Conditions = append(csr.Status.Conditions, certificatesv1.CertificateSigningRequestCondition{
		Type: certificatesv1.CertificateApproved, Status: corev1.ConditionTrue, Reason: "AutoApproved", Message: msg,
		LastUpdateTime: now, LastTransitionTime: now})
	if _, err := a.client.CertificatesV1().CertificateSigningRequests().UpdateApproval(ctx, name, csr, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("approve %s: %w", name, err)
	}
	a.log.Info("approved certificate signing request", "name", name, "requester", csr.Spec.Username, "subject", req.Subject.CommonName)
	return nil
}

// recognize names the permission (a certificatesigningrequests
// subresource) whose holder's request of this kind is approved, and the
// approval's message; "" for a request this approver leaves alone.
func recognize(csr *certificatesv1.CertificateSigningRequest, req *x509.CertificateRequest) (string, string) {
	switch {
	case csr.Spec.SignerName == KubeletClientSigner && nodeClientRequest(req, csr.Spec.Usages) == nil:
		if csr.Spec.Username == req.Subject.CommonName {
			return "selfnodeclient", "Auto approving self kubelet client certificate after SubjectAccessReview."
		}
		return "nodeclient", "Auto approving kubelet client certificate after SubjectAccessReview."
	case csr.Spec.SignerName == ClientSigner && proxyClientRequest(req, csr.Spec.Usages) == nil:
		return ProxyClientSubresource, "Auto approving kube-proxy client certificate after SubjectAccessReview."
	}
	return "", ""
}

// allowed asks, with a SubjectAccessReview, whether the requester may create
// certificatesigningrequests/<sub>.
func (a *Approver) allowed(ctx context.Context, csr *certificatesv1.CertificateSigningRequest, sub string) (bool, error) {
	extra := map[string]authorizationv1.ExtraValue{}
	for k, v := range csr.Spec.Extra {
		extra[k] = authorizationv1.ExtraValue(v)
	}
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: csr.Spec.Username, UID: csr.Spec.UID, Groups: csr.Spec.Groups, Extra: extra,
		ResourceAttributes: &authorizationv1.ResourceAttributes{Group: certificatesv1.GroupName, Resource: "certificatesigningrequests",
			Subresource: sub, Verb: "create"}}}
	got, err := a.client.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
	if err != nil {
		return false, fmt.Errorf("subject access review for %s: %w", csr.Name, err)
	}
	return got.Status.Allowed, nil
}
