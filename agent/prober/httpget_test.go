package prober

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/nodeagent/nodeagent/internal/memnet"
)

func TestHTTPGetRequest(t *testing.T) {
	c := &corev1.Container{Name: "app", Ports: []corev1.ContainerPort{{Name: "web", ContainerPort: 8080}}}
	for _, tc := range []struct {
		name    string
		action  corev1.HTTPGetAction
		wantURL string
		want    map[string]string // header: value ("" = absent)
		host    string
	}{
		{name: "defaults", action: corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(80)},
			wantURL: "http://10.244.0.5:80/healthz", want: map[string]string{"User-Agent": "kube-probe/1.37", "Accept": "*/*"}},
		{name: "named port, https, query", action: corev1.HTTPGetAction{Path: "/ready?full=1", Port: intstr.FromString("web"), Scheme: corev1.URISchemeHTTPS},
			wantURL: "https://10.244.0.5:8080/ready?full=1"},
		{name: "host set", action: corev1.HTTPGetAction{Host: "10.0.0.9", Path: "/", Port: intstr.FromInt32(81)},
			wantURL: "http://10.0.0.9:81/"},
		{name: "ipv6 pod", action: corev1.HTTPGetAction{Host: "fd00::5", Path: "/", Port: intstr.FromInt32(81)},
			wantURL: "http://[fd00::5]:81/"},
		{name: "headers", action: corev1.HTTPGetAction{Path: "/", Port: intstr.FromInt32(80), HTTPHeaders: []corev1.HTTPHeader{
			{Name: "User-Agent", Value: "mine"}, {Name: "Accept", Value: ""}, {Name: "X-Two", Value: "a"}, {Name: "X-Two", Value: "b"}, {Name: "Host", Value: "app.example"}}},
			wantURL: "http://10.244.0.5:80/", want: map[string]string{"User-Agent": "mine", "Accept": "", "X-Two": "a"}, host: "app.example"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := HTTPGetRequest(&tc.action, c, "10.244.0.5", "kube-probe/1.37")
			if err != nil {
				t.Fatal(err)
			}
			if req.URL.String() != tc.wantURL || req.Host != tc.host {
				t.Fatalf("URL %s host %q, want %s %q", req.URL, req.Host, tc.wantURL, tc.host)
			}
			for k, v := range tc.want {
				if got := req.Header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if tc.name == "headers" && len(req.Header.Values("X-Two")) != 2 {
				t.Errorf("X-Two values %q", req.Header.Values("X-Two"))
			}
		})
	}
	if _, err := HTTPGetRequest(&corev1.HTTPGetAction{Port: intstr.FromString("nope")}, c, "10.244.0.5", "ua"); err == nil {
		t.Fatal("an unknown port name: no error")
	}
}

// podServer serves h on the in-memory network at addr.
func podServer(t *testing.T, n *memnet.Network, addr string, h http.Handler) {
	t.Helper()
	srv := &http.Server{Handler: h}
	l := n.Listen(addr)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
}

func TestHTTPHandler(t *testing.T) {
	n := memnet.New()
	var gotUA, gotAccept string
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		gotUA, gotAccept = r.Header.Get("User-Agent"), r.Header.Get("Accept")
		fmt.Fprint(w, "fine")
	})
	mux.HandleFunc("/nocontent", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("/local", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ok", http.StatusFound) })
	mux.HandleFunc("/away", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "http://10.9.9.9:80/")
		w.WriteHeader(http.StatusFound)
		fmt.Fprint(w, "moved")
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	mux.HandleFunc("/missing", http.NotFound)
	mux.HandleFunc("/broken", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, "secret details")
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, strings.Repeat("b", 64<<10)) })
	podServer(t, n, "10.244.0.5:8080", mux)

	h := httpHandler{client: NewHTTPClient(n.Dial), userAgent: "kube-probe/1.37"}
	c := &corev1.Container{Name: "app"}
	for _, tc := range []struct {
		path, port string
		want       outcome
		wantOut    string
	}{
		{path: "/ok", want: outcomeSuccess, wantOut: "fine"},
		{path: "/nocontent", want: outcomeSuccess},
		{path: "/local", want: outcomeSuccess, wantOut: "fine"},
		{path: "/away", want: outcomeWarning, wantOut: "Probe terminated redirects, Response body: moved"},
		{path: "/missing", want: outcomeFailure, wantOut: "HTTP probe failed with statuscode: 404"},
		{path: "/broken", want: outcomeFailure, wantOut: "HTTP probe failed with statuscode: 500"},
		{path: "/big", want: outcomeSuccess, wantOut: strings.Repeat("b", 10<<10)},
		{path: "/loop", want: outcomeFailure, wantOut: `Get "/loop": stopped after 10 redirects`},
		{path: "/ok", port: "9999", want: outcomeFailure, wantOut: `Get "http://10.244.0.5:9999/ok": dial tcp 10.244.0.5:9999: connect: connection refused`},
	} {
		port := intstr.FromInt32(8080)
		if tc.port != "" {
			port = intstr.FromString(tc.port)
		}
		p := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: tc.path, Port: port}}, TimeoutSeconds: 5}
		out, msg, err := h.run(context.Background(), target{container: c, podIP: "10.244.0.5"}, p)
		if err != nil || out != tc.want || msg != tc.wantOut {
			t.Errorf("GET %s: %s %q %v; want %s %q", tc.path, out, msg, err, tc.want, tc.wantOut)
		}
	}
	if gotUA != "kube-probe/1.37" || gotAccept != "*/*" {
		t.Errorf("the pod saw User-Agent %q, Accept %q", gotUA, gotAccept)
	}
	for _, a := range n.Dialed() {
		if a == "10.9.9.9:80" {
			t.Error("the probe followed a redirect to another host")
		}
	}
}
