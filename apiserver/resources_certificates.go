package apiserver

import (
	"errors"
	"fmt"
	"strings"

	certificatesv1 "k8s.io/api/certificates/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/nodeagent/nodeagent/api/validation"
	"github.com/nodeagent/nodeagent/apiserver/auth"
)

var certificatesV1 = certificatesv1.SchemeGroupVersion

// certificatesResources are certificates.k8s.io/v1: CertificateSigningRequests,
// through which a joining node asks for its client certificate (the
// server's approver and signer controllers answer). As kube's strategies:
// the spec is the requester's and never changes; the status subresource
// sets the certificate and conditions but not the approval; the approval
// subresource sets only the Approved and Denied conditions.
func certificatesResources() []*resource {
	st := withStatus(strategy{
		validate:       typedV(validation.CertificateSigningRequest),
		validateUpdate: typedU(validation.CertificateSigningRequestUpdate),
		prepareCreate: typed(func(csr *certificatesv1.CertificateSigningRequest) {
			csr.Status = certificatesv1.CertificateSigningRequestStatus{}
		}),
		prepareUpdate: func(obj, old runtime.Object) { copyField(obj, old, "Spec") },
		prepareStatusUpdate: typedU2(func(csr, old *certificatesv1.CertificateSigningRequest) {
			csr.Status.Conditions = mergeConditions(old.Status.Conditions, csr.Status.Conditions, isApproval)
		}),
		prepareApprovalUpdate: typedU2(func(csr, old *certificatesv1.CertificateSigningRequest) {
			conds := mergeConditions(csr.Status.Conditions, old.Status.Conditions, isApproval)
			csr.Status = *old.Status.DeepCopy()
			csr.Status.Conditions = conds
		}),
	})
	return []*resource{
		{gvk: certificatesV1.WithKind("CertificateSigningRequest"), plural: "certificatesigningrequests", singular: "certificatesigningrequest",
			shortNames: []string{"csr"}, subresources: []string{"status", "approval"},
			newObj:   func() runtime.Object { return &certificatesv1.CertificateSigningRequest{} },
			newList:  func() runtime.Object { return &certificatesv1.CertificateSigningRequestList{} },
			strategy: st, fieldLabels: []string{"spec.signerName"}, fieldSet: typedF(csrFields)},
	}
}

func isApproval(c certificatesv1.CertificateSigningRequestCondition) bool {
	return c.Type == certificatesv1.CertificateApproved || c.Type == certificatesv1.CertificateDenied
}

// mergeConditions is from's conditions of the kinds pick chooses, then
// rest's of the other kinds, each in its order.
func mergeConditions(from, rest []certificatesv1.CertificateSigningRequestCondition,
	pick func(certificatesv1.CertificateSigningRequestCondition) bool) []certificatesv1.CertificateSigningRequestCondition {
	var out []certificatesv1.CertificateSigningRequestCondition
	for _, c := range from {
		if pick(c) {
			out = append(out, c)
		}
	}
	for _, c := range rest {
		if !pick(c) {
			out = append(out, c)
		}
	}
	return out
}

func csrFields(csr *certificatesv1.CertificateSigningRequest) fields.Set {
	return fields.Set{"spec.signerName": csr.Spec.SignerName}
}

// stampRequester records who asks, as kube-apiserver does on create: the
// spec's username, uid, groups and extra are the requester's, whatever the
// body said.
func stampRequester(csr *certificatesv1.CertificateSigningRequest, u *auth.User) {
	csr.Spec.Username, csr.Spec.UID = u.Name, u.UID
	csr.Spec.Groups = append([]string(nil), u.Groups...)
	csr.Spec.Extra = nil
	for k, v := range u.Extra {
		if csr.Spec.Extra == nil {
			csr.Spec.Extra = map[string]certificatesv1.ExtraValue{}
		}
		csr.Spec.Extra[k] = append(certificatesv1.ExtraValue(nil), v...)
	}
}

// authorizeSigner wants, for a change of the approval (verb "approve") or
// of the issued certificate ("sign"), that verb on the signers resource
// named by the request's signer, or its domain's wildcard ("example.com/*"),
// as kube-apiserver's CSR admission does.
func (s *Server) authorizeSigner(q *request, csr *certificatesv1.CertificateSigningRequest, verb string) error {
	domain, _, _ := strings.Cut(csr.Spec.SignerName, "/")
	for _, name := range []string{csr.Spec.SignerName, domain + "/*"} {
		at := auth.Attributes{User: q.user, Verb: verb, APIGroup: certificatesv1.GroupName, Resource: "signers", Name: name, ResourceRequest: true}
		ok, _, err := s.authz.Authorize(q.ctx, at)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
	}
	return apierrors.NewForbidden(q.gr(), q.info.name,
		fmt.Errorf("user not permitted to %s requests with signerName %q", verb, csr.Spec.SignerName))
}

// admitCSR stamps the requester on create and, on an approval or status
// update that changes the approval or the certificate, wants the signer
// permission for it.
func (s *Server) admitCSR(q *request, obj, old runtime.Object) error {
	csr, ok := obj.(*certificatesv1.CertificateSigningRequest)
	if !ok {
		return nil
	}
	if old == nil {
		if q.info.subresource == "" {
			stampRequester(csr, q.user)
		}
		return nil
	}
	prev, ok := old.(*certificatesv1.CertificateSigningRequest)
	if !ok {
		return errors.New("stored object is not a CertificateSigningRequest")
	}
	switch q.info.subresource {
	case "approval":
		if approvalOf(csr) != approvalOf(prev) {
			return s.authorizeSigner(q, prev, "approve")
		}
	case "status":
		if string(csr.Status.Certificate) != string(prev.Status.Certificate) {
			return s.authorizeSigner(q, prev, "sign")
		}
	}
	return nil
}

// approvalOf is the request's Approved/Denied conditions, as a string.
func approvalOf(csr *certificatesv1.CertificateSigningRequest) string {
	var b strings.Builder
	for _, c := range csr.Status.Conditions {
		if isApproval(c) {
			fmt.Fprintf(&b, "%s=%s;", c.Type, c.Status)
		}
	}
	return b.String()
}
