package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"

	"k8s.io/client-go/rest"
)

// runKube is `testserver kube PATH`: an in-cluster client, as an app in a
// pod makes one with client-go (rest.InClusterConfig: the
// KUBERNETES_SERVICE_HOST/PORT variables, the ServiceAccount token and
// ca.crt), that GETs PATH from the API server and prints the status code
// on the first line and the body after it. A status other than 200 is an
// error (exit 2) after the body is printed.
func runKube(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("kube", flag.ContinueOnError)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("usage: testserver kube PATH")
	}
	cfg, err := rest.InClusterConfig()
	if err != nil {
		return err
	}
	c, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.Host+fs.Arg(0), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d\n%s\n", resp.StatusCode, body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", fs.Arg(0), resp.Status)
	}
	return nil
}
