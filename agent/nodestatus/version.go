package nodestatus

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/version"
)

// Version is the kubelet version the agent implements, what its Node
// reports unless the API server is older (ReportedVersion).
const Version = "v1.37.2-nodeagent"

// versionSuffix marks a reported version as nodeagent's; as a pre-release
// it orders before the release of the same number.
const versionSuffix = "-nodeagent"

// ReportedVersion is the kubelet version a node whose own is own reports
// to an API server of version server: own, or, when the server is an
// older release of the same major version, the server's number with
// nodeagent's suffix. The version skew policy allows no kubelet newer than
// kube-apiserver (a v1.37 node under a v1.36 control plane is an
// unsupported cluster to kubeadm and its users); the agent runs against
// the older server with the APIs it serves. A server version that does not
// parse, or of another major version, leaves own.
func ReportedVersion(own, server string) string {
	o, err := version.ParseGeneric(own)
	if err != nil {
		return own
	}
	s, err := version.ParseGeneric(server)
	if err != nil || s.Major() != o.Major() || !s.LessThan(o) {
		return own
	}
	return fmt.Sprintf("v%d.%d.%d%s", s.Major(), s.Minor(), s.Patch(), versionSuffix)
}

// kubeletVersion is the version the Node reports: ReportedVersion against
// the server's, asked once (the Node is only written when the server
// answers), Version while it cannot be read.
func (r *Reporter) kubeletVersion() string {
	if r.version != "" {
		return r.version
	}
	info, err := r.client.Discovery().ServerVersion()
	if err != nil {
		r.log.Warn("the API server's version is unknown; the node reports its own", "version", Version, "err", err)
		return Version
	}
	r.version = ReportedVersion(Version, info.GitVersion)
	if r.version != Version {
		r.log.Info("the API server is older: the node reports its version, as the version skew policy wants no kubelet newer than kube-apiserver",
			"reported", r.version, "own", Version, "server", info.GitVersion)
	}
	return r.version
}
