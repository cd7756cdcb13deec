// Command build assembles the test image from a static testserver binary and
// busybox-static, with no network: it writes a docker-archive tarball (for
// `ctr images import`) and can push the same image to a local registry.
//
//	go run ./images/build --server bin/testserver --busybox /bin/busybox \
//	    --ref 127.0.0.1:5000/nodeagent/testserver:v1 --out bin/images/testserver.tar [--push]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

func main() {
	if err := run(context.Background(), os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "images/build: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	server := fs.String("server", "bin/testserver", "static testserver binary")
	busybox := fs.String("busybox", "/bin/busybox", "static busybox binary")
	ref := fs.String("ref", "127.0.0.1:5000/nodeagent/testserver:v1", "image reference")
	out := fs.String("out", "", "write a docker-archive tarball here")
	push := fs.Bool("push", false, "push the image to the registry named in --ref (plain HTTP)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	in, err := readInputs(*server, *busybox)
	if err != nil {
		return err
	}
	img, err := Image(in)
	if err != nil {
		return err
	}
	tag, err := name.NewTag(*ref, name.Insecure)
	if err != nil {
		return fmt.Errorf("--ref: %w", err)
	}
	if *out != "" {
		if err := tarball.WriteToFile(*out, tag, img); err != nil {
			return fmt.Errorf("write %s: %w", *out, err)
		}
	}
	if *push {
		if err := remote.Write(tag, img, remote.WithContext(ctx)); err != nil {
			return fmt.Errorf("push %s: %w", tag, err)
		}
	}
	digest, _ := img.Digest()
	fmt.Printf("%s@%s\n", tag, digest)
	return nil
}

func readInputs(server, busybox string) (Inputs, error) {
	var in Inputs
	var err error
	if in.Server, err = os.ReadFile(server); err != nil {
		return in, err
	}
	if in.Busybox, err = os.ReadFile(busybox); err != nil {
		return in, fmt.Errorf("%w (install busybox-static)", err)
	}
	list, err := exec.Command(busybox, "--list").Output()
	if err != nil {
		return in, fmt.Errorf("%s --list: %w", busybox, err)
	}
	in.Applets = strings.Fields(string(list))
	return in, nil
}
