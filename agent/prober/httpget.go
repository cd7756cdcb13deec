package prober

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// maxBody is how much of a response body a probe reads (kubelet: 10 KiB).
const maxBody = 10 << 10

// HTTPGetRequest builds the GET that an httpGet probe or hook sends, as
// kubelet does: scheme http unless set, host the pod's IP unless set, the
// port by number or by container port name, the path as written, the
// headers as listed (a Host header sets the request's host), User-Agent
// userAgent and Accept */* unless the headers set them (an empty Accept
// removes it).
func HTTPGetRequest(h *corev1.HTTPGetAction, c *corev1.Container, podIP, userAgent string) (*http.Request, error) {
	port, err := ResolvePort(h.Port, c)
	if err != nil {
		return nil, err
	}
	host := h.Host
	if host == "" {
		host = podIP
	}
	req, err := http.NewRequest(http.MethodGet, probeURL(scheme(h), host, port, h.Path).String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header = headers(h.HTTPHeaders, userAgent)
	req.Host = req.Header.Get("Host")
	return req, nil
}

func scheme(h *corev1.HTTPGetAction) string {
	if h.Scheme == "" {
		return "http"
	}
	return strings.ToLower(string(h.Scheme))
}

// probeURL joins the parts; a path that does not parse is kept as a path.
func probeURL(scheme, host string, port int, path string) *url.URL {
	u, err := url.Parse(path)
	if err != nil {
		u = &url.URL{Path: path}
	}
	u.Scheme = scheme
	u.Host = net.JoinHostPort(host, strconv.Itoa(port))
	return u
}

func headers(list []corev1.HTTPHeader, userAgent string) http.Header {
	h := http.Header{}
	for _, x := range list {
		h.Add(x.Name, x.Value)
	}
	if _, ok := h["User-Agent"]; !ok {
		h.Set("User-Agent", userAgent)
	}
	if _, ok := h["Accept"]; !ok {
		h.Set("Accept", "*/*")
	} else if h.Get("Accept") == "" {
		h.Del("Accept")
	}
	return h
}

// NewHTTPClient is the client probes and hooks use: connections through
// dial, no proxy, no keep-alive, no compression, certificates not verified
// (a pod's serving certificate names no IP kubelet could check), and
// redirects followed only to the same host, at most 10.
func NewHTTPClient(dial DialFunc) *http.Client {
	t := &http.Transport{
		DialContext:        dial,
		Proxy:              nil,
		DisableKeepAlives:  true,
		DisableCompression: true,
		TLSClientConfig:    &tls.Config{InsecureSkipVerify: true}, // as kubelet: nothing to verify an IP against
	}
	return &http.Client{Transport: t, CheckRedirect: localRedirectsOnly}
}

// localRedirectsOnly stops at a redirect to another host: the probe then
// sees the redirect itself (a warning, counted as success).
func localRedirectsOnly(req *http.Request, via []*http.Request) error {
	if req.URL.Hostname() != via[0].URL.Hostname() {
		return http.ErrUseLastResponse
	}
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	return nil
}

// httpOutcome judges a response as kubelet does: 2xx success, 3xx (a
// redirect not followed) a warning with the body, anything else a failure
// whose message, unlike the log, names only the status code.
func httpOutcome(res *http.Response) (outcome, string, error) {
	body, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	if err != nil {
		return outcomeFailure, "", err
	}
	switch {
	case res.StatusCode >= 200 && res.StatusCode < 300:
		return outcomeSuccess, string(body), nil
	case res.StatusCode >= 300 && res.StatusCode < 400:
		return outcomeWarning, fmt.Sprintf("Probe terminated redirects, Response body: %s", body), nil
	}
	return outcomeFailure, fmt.Sprintf("HTTP probe failed with statuscode: %d", res.StatusCode), nil
}
