package healthcheck

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// answer is the body of /healthz and /livez: kube-proxy's fields, with
// RFC 3339 times (kube-proxy prints Go's time.String()).
type answer struct {
	LastUpdated  time.Time `json:"lastUpdated"`
	CurrentTime  time.Time `json:"currentTime"`
	NodeEligible *bool     `json:"nodeEligible,omitempty"`
}

// Handler serves /healthz and /livez (GET), nothing else.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { s.serve(w, true) })
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, _ *http.Request) { s.serve(w, false) })
	return mux
}

// serve writes the health; /healthz (withNode) also fails for a node that
// is not eligible, /livez only when the proxy does not keep up.
func (s *Server) serve(w http.ResponseWriter, withNode bool) {
	healthy, last, eligible := s.health()
	now := s.clock.Now()
	a := answer{LastUpdated: last, CurrentTime: now}
	counter := s.livez
	if withNode {
		healthy = healthy && eligible
		a.NodeEligible, counter = &eligible, s.healthz
	}
	code := http.StatusServiceUnavailable
	if healthy {
		// kube-proxy's compatibility rule: a healthy proxy's lastUpdated
		// is recent, whether or not anything needed syncing.
		code, a.LastUpdated = http.StatusOK, now
	}
	counter.WithLabelValues(strconv.Itoa(code)).Inc()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(a)
}
