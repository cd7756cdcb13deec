package kubeanchor

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// DialFunc connects to an address; http.Transport's DialContext has its
// shape.
type DialFunc func(ctx context.Context, network, address string) (net.Conn, error)

// RESTConfig is the client config of the kubeconfig at path, checked to
// point at loopback, with client-side rate limiting raised out of the way
// and no proxy. Each config built from it opens its own connection (see
// noProxy). A non-nil dial makes the connections (from inside a lab node,
// say).
func RESTConfig(path string, dial DialFunc) (*rest.Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(data)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	if err := CheckLoopback(cfg.Host); err != nil {
		return nil, err
	}
	cfg.QPS, cfg.Burst = 5000, 10000
	cfg.Proxy = noProxy
	cfg.Dial = dial
	return cfg, nil
}

// noProxy never uses a proxy. Setting it also makes client-go give every
// clientset its own transport (a func cannot be a cache key), so N
// clientsets are N connections, as N real clients would be.
func noProxy(*http.Request) (*url.URL, error) { return nil, nil }

// CheckLoopback refuses a server URL whose host is not a loopback IP.
func CheckLoopback(host string) error {
	u, err := url.Parse(host)
	if err != nil {
		return fmt.Errorf("server URL %q: %w", host, err)
	}
	ip := net.ParseIP(u.Hostname())
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("server URL %q is not on loopback: the bench only talks to 127.0.0.1", host)
	}
	return nil
}

// FreeLoopbackPort asks the kernel for a free port on 127.0.0.1.
func FreeLoopbackPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free loopback port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// freeLoopbackPorts asks the kernel for n distinct free ports on 127.0.0.1.
func freeLoopbackPorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for len(ports) < n {
		p, err := FreeLoopbackPort()
		if err != nil {
			return nil, err
		}
		if !slices.Contains(ports, p) {
			ports = append(ports, p)
		}
	}
	return ports, nil
}
