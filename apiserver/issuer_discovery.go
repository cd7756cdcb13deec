package apiserver

import (
	"encoding/json"
	"net/http"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// Service account issuer discovery (kube's ServiceAccountIssuerDiscovery):
// an OpenID provider configuration naming the issuer and where its keys
// are, and the keys. Who may read them is the authorizer's business
// (service accounts and admins, as kube's default binding).
const (
	openIDConfigPath = "/.well-known/openid-configuration"
	jwksPath         = "/openid/v1/jwks"
)

// serveIssuerDiscovery answers the two discovery paths; it reports false
// for any other path.
func (s *Server) serveIssuerDiscovery(w http.ResponseWriter, r *http.Request) bool {
	var body any
	contentType := "application/json"
	switch r.URL.Path {
	case openIDConfigPath:
		body = map[string]any{
			"issuer":                                s.tokens.Issuer(),
			"jwks_uri":                              strings.TrimSuffix(s.tokens.Issuer(), "/") + jwksPath,
			"response_types_supported":              []string{"id_token"},
			"subject_types_supported":               []string{"public"},
			"id_token_signing_alg_values_supported": []string{string(jose.ES256)},
		}
	case jwksPath:
		body, contentType = s.tokens.JWKS(), "application/jwk-set+json"
	default:
		return false
	}
	data, err := json.Marshal(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return true
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(data)
	return true
}
