// Package apiauth authenticates and authorizes every request to the agent's
// HTTPS API (port 10250) as kubelet's webhook mode does:
//
//   - authentication: a client certificate that chains to the client CA
//     (user = CN, groups = O), else a bearer token the API server confirms
//     with a TokenReview; anything else is 401. Token answers are cached
//     (2 minutes, confirmed or not), errors are not.
//   - authorization: a SubjectAccessReview to the API server for
//     resource nodes, name = this node, subresource by kubelet's path
//     mapping (/stats stats, /metrics metrics, /logs log, /spec spec,
//     everything else proxy), verb by HTTP method; 403 with kubelet's
//     message when not allowed. Answers are cached 5 minutes when allowed,
//     30 seconds when not.
//
// The review clients are interfaces (client-go's typed clients satisfy
// them); fake.go has stateful fakes for tests.
package apiauth
