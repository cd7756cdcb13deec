package apiserver

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/utils/clock"

	"github.com/nodeagent/nodeagent/apiserver/admission"
)

// serviceAccountAdmission is kube's ServiceAccount admission on this
// server's storage.
func (s *Server) serviceAccountAdmission() admission.ServiceAccount {
	return admission.ServiceAccount{Accounts: accountLookup{s}, Suffix: func() string { return utilrand.String(5) }, Clock: clock.RealClock{}}
}

// accountLookup reads ServiceAccounts from storage for admission.
type accountLookup struct{ s *Server }

func (l accountLookup) ServiceAccount(ctx context.Context, namespace, name string) (*corev1.ServiceAccount, error) {
	res, _ := l.s.reg.lookup("", "v1", "serviceaccounts")
	obj, err := l.s.store(res).Get(ctx, namespace, name)
	if err != nil {
		return nil, statusError(err, res.groupResource(), name)
	}
	return obj.(*corev1.ServiceAccount), nil
}
