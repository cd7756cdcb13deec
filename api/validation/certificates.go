package validation

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/validation/path"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// minCSRExpirationSeconds is the shortest duration a CSR may ask for.
const minCSRExpirationSeconds = 600

// keyUsages are the usages a CSR may name.
var keyUsages = []certificatesv1.KeyUsage{
	certificatesv1.UsageSigning, certificatesv1.UsageDigitalSignature, certificatesv1.UsageContentCommitment,
	certificatesv1.UsageKeyEncipherment, certificatesv1.UsageKeyAgreement, certificatesv1.UsageDataEncipherment,
	certificatesv1.UsageCertSign, certificatesv1.UsageCRLSign, certificatesv1.UsageEncipherOnly,
	certificatesv1.UsageDecipherOnly, certificatesv1.UsageAny, certificatesv1.UsageServerAuth,
	certificatesv1.UsageClientAuth, certificatesv1.UsageCodeSigning, certificatesv1.UsageEmailProtection,
	certificatesv1.UsageSMIME, certificatesv1.UsageIPsecEndSystem, certificatesv1.UsageIPsecTunnel,
	certificatesv1.UsageIPsecUser, certificatesv1.UsageTimestamping, certificatesv1.UsageOCSPSigning,
	certificatesv1.UsageMicrosoftSGC, certificatesv1.UsageNetscapeSGC,
}

// ParseCSR decodes a PEM CERTIFICATE REQUEST and checks its signature.
func ParseCSR(pemBytes []byte) (*x509.CertificateRequest, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return nil, errors.New("PEM block type must be CERTIFICATE REQUEST")
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return nil, err
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, err
	}
	return csr, nil
}

// CertificateSigningRequest validates a new certificates.k8s.io/v1 CSR as
// kube-apiserver does: a PEM request that parses, a signer name of the
// form example.com/name (not the legacy one), known usages without
// duplicates, expirationSeconds of at least 600, well-formed conditions.
func CertificateSigningRequest(csr *certificatesv1.CertificateSigningRequest) field.ErrorList {
	errs := ObjectMeta(&csr.ObjectMeta, false, csrName)
	spec := field.NewPath("spec")
	if _, err := ParseCSR(csr.Spec.Request); err != nil {
		errs = append(errs, field.Invalid(spec.Child("request"), csr.Spec.Request, err.Error()))
	}
	errs = append(errs, signerName(csr.Spec.SignerName, spec.Child("signerName"))...)
	if len(csr.Spec.Usages) == 0 {
		errs = append(errs, field.Required(spec.Child("usages"), ""))
	}
	seen := map[certificatesv1.KeyUsage]bool{}
	for i, u := range csr.Spec.Usages {
		fld := spec.Child("usages").Index(i)
		errs = append(errs, enum(u, fld, keyUsages...)...)
		if seen[u] {
			errs = append(errs, field.Duplicate(fld, u))
		}
		seen[u] = true
	}
	if e := csr.Spec.ExpirationSeconds; e != nil && *e < minCSRExpirationSeconds {
		errs = append(errs, field.Invalid(spec.Child("expirationSeconds"), *e, "may not specify a duration less than 600 seconds (10 minutes)"))
	}
	return append(errs, csrStatus(&csr.Status)...)
}

// csrName is kube's rule for CSR names: any name that is a valid path
// segment (kubelet's node-csr-<base64url digest> has capitals and '_').
func csrName(name string, prefix bool) []string {
	if prefix {
		return path.IsValidPathSegmentPrefix(name)
	}
	return path.IsValidPathSegmentName(name)
}

// signerName is kube's rule: a DNS-subdomain domain, "/", a path that is
// a qualified name's part; kubernetes.io/legacy-unknown is not accepted in v1.
func signerName(name string, fld *field.Path) field.ErrorList {
	if name == "" {
		return field.ErrorList{field.Required(fld, "")}
	}
	if name == "kubernetes.io/legacy-unknown" {
		return field.ErrorList{field.Invalid(fld, name, "the legacy signerName is not allowed via this API version")}
	}
	domain, path, ok := strings.Cut(name, "/")
	if !ok || domain == "" || path == "" {
		return field.ErrorList{field.Invalid(fld, name, "must be a fully qualified domain and path of the form 'example.com/signer-name'")}
	}
	var errs field.ErrorList
	for _, msg := range dnsSubdomainMsgs(domain) {
		errs = append(errs, field.Invalid(fld, name, "validating domain component: "+msg))
	}
	return errs
}

func dnsSubdomainMsgs(s string) []string {
	var out []string
	for _, e := range dnsSubdomain(s, field.NewPath("x")) {
		out = append(out, e.Detail)
	}
	return out
}

// csrStatus checks the conditions and the issued certificate.
func csrStatus(st *certificatesv1.CertificateSigningRequestStatus) field.ErrorList {
	var errs field.ErrorList
	conds := field.NewPath("status", "conditions")
	seen := map[certificatesv1.RequestConditionType]bool{}
	for i, c := range st.Conditions {
		fld := conds.Index(i)
		if c.Type == "" {
			errs = append(errs, field.Required(fld.Child("type"), ""))
		}
		if c.Status == "" {
			errs = append(errs, field.Required(fld.Child("status"), ""))
		} else {
			errs = append(errs, enum(c.Status, fld.Child("status"), corev1.ConditionTrue, corev1.ConditionFalse, corev1.ConditionUnknown)...)
		}
		switch c.Type {
		case certificatesv1.CertificateApproved, certificatesv1.CertificateDenied, certificatesv1.CertificateFailed:
			if c.Status != "" && c.Status != corev1.ConditionTrue {
				errs = append(errs, field.NotSupported(fld.Child("status"), c.Status, []string{string(corev1.ConditionTrue)}))
			}
			if seen[c.Type] {
				errs = append(errs, field.Duplicate(fld.Child("type"), c.Type))
			}
		}
		seen[c.Type] = true
	}
	if seen[certificatesv1.CertificateApproved] && seen[certificatesv1.CertificateDenied] {
		errs = append(errs, field.Invalid(conds, st.Conditions, "Approved and Denied conditions are mutually exclusive"))
	}
	if len(st.Certificate) > 0 {
		if seen[certificatesv1.CertificateDenied] || seen[certificatesv1.CertificateFailed] {
			errs = append(errs, field.Invalid(field.NewPath("status", "certificate"), "<certificate data>", "may not be set when Denied or Failed conditions exist"))
		}
		if err := certificateBlocks(st.Certificate); err != nil {
			errs = append(errs, field.Invalid(field.NewPath("status", "certificate"), "<certificate data>", err.Error()))
		}
	}
	return errs
}

// certificateBlocks wants one or more PEM CERTIFICATE blocks that parse.
func certificateBlocks(data []byte) error {
	n := 0
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return fmt.Errorf("only CERTIFICATE PEM blocks are allowed, found %q", block.Type)
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return err
		}
		n++
	}
	if n == 0 {
		return errors.New("must contain at least one CERTIFICATE PEM block")
	}
	return nil
}

// CertificateSigningRequestUpdate validates an update: the spec never
// changes (the strategies keep it), an Approved or Denied condition stays,
// and a certificate once issued does not change.
func CertificateSigningRequestUpdate(csr, old *certificatesv1.CertificateSigningRequest) field.ErrorList {
	errs := append(ObjectMetaUpdate(&csr.ObjectMeta, &old.ObjectMeta), csrStatus(&csr.Status)...)
	conds := field.NewPath("status", "conditions")
	for _, t := range []certificatesv1.RequestConditionType{certificatesv1.CertificateApproved, certificatesv1.CertificateDenied} {
		if hasCondition(old, t) && !hasCondition(csr, t) {
			errs = append(errs, field.Forbidden(conds, fmt.Sprintf("updates may not remove a condition of type %q", t)))
		}
	}
	if len(old.Status.Certificate) > 0 && string(old.Status.Certificate) != string(csr.Status.Certificate) {
		errs = append(errs, field.Invalid(field.NewPath("status", "certificate"), "<certificate data>", "updates may not modify existing certificate content"))
	}
	if len(csr.Status.Certificate) > 0 && len(old.Status.Certificate) == 0 && !hasCondition(csr, certificatesv1.CertificateApproved) {
		errs = append(errs, field.Invalid(field.NewPath("status", "certificate"), "<certificate data>", "certificate may only be set if the request is approved"))
	}
	return errs
}

func hasCondition(csr *certificatesv1.CertificateSigningRequest, t certificatesv1.RequestConditionType) bool {
	for _, c := range csr.Status.Conditions {
		if c.Type == t {
			return true
		}
	}
	return false
}
