package auth

import "regexp"

// Bootstrap token names and groups, as kube's.
const (
	BootstrapUserPrefix = "system:bootstrap:"
	GroupBootstrappers  = "system:bootstrappers"
)

var bootstrapToken = regexp.MustCompile(`^[a-z0-9]{6}\.[a-z0-9]{16}$`)

// IsBootstrapToken reports whether token has a bootstrap token's form.
func IsBootstrapToken(token string) bool { return bootstrapToken.MatchString(token) }
