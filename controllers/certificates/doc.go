// Package certificates is kube-controller-manager's CSR approving and
// signing controllers for the join flow: the approver approves node client
// certificate requests (signer kubernetes.io/kube-apiserver-client-kubelet)
// whose requester may, by a SubjectAccessReview, create
// certificatesigningrequests/nodeclient (a join token) or, for a node
// renewing its own certificate, certificatesigningrequests/selfnodeclient;
// and system:kube-proxy client requests (signer kube-apiserver-client) of
// a requester that may create certificatesigningrequests/kubeproxyclient
// (nodeagent's join tokens: the joining node's proxy identity);
// the signer issues the approved requests of the signers the cluster CA
// backs (kube-apiserver-client-kubelet, kube-apiserver-client,
// kubelet-serving) after checking them against their signer's rules, and
// marks the rest Failed.
package certificates
