// Package defaults fills in the fields that kube-apiserver fills in when it
// stores an object: the values of the v1 defaulting functions, plus those the
// default admission chain adds to pods (ServiceAccount,
// DefaultTolerationSeconds; Priority is the API server's, as it reads the
// PriorityClasses) and the status a new pod or namespace starts with.
//
// Every function mutates its argument in place and is idempotent, so the API
// layer can call it on both create and update. Only unset fields are set,
// with two exceptions that kube shares: a namespace's
// kubernetes.io/metadata.name label always tracks its name, and a Secret's
// stringData is merged into data (and cleared). NamespaceCreate and
// JobSelector (which needs the uid the server assigns) are the create-only
// functions: see their comments.
// Nothing here allocates cluster resources: cluster IPs, node ports and
// service-account token volumes are the caller's business.
//
// There is one function per kind, including kinds that Kubernetes defaults
// nothing for (Event, ServiceAccount, ConfigMap, Lease), so that the caller can
// treat every kind the same way.
package defaults
