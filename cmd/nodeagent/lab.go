package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/nodeagent/nodeagent/lab"
)

const labUsage = `usage:
  nodeagent lab up NAME [--service-cidr CIDR]   create lab node NAME
  nodeagent lab down NAME                        remove lab node NAME and all it holds
  nodeagent lab down --all                       remove every lab node (the cleanup path)
  nodeagent lab exec NAME -- COMMAND [ARGS...]   run COMMAND inside lab node NAME
  nodeagent lab list                             list lab nodes
  nodeagent lab path NAME                        print the lab's netns path`

func runLab(ctx context.Context, env *environment, args []string) error {
	if len(args) == 0 {
		return errors.New(labUsage)
	}
	verb, rest := args[0], args[1:]
	switch verb {
	case "up":
		return labUp(env, rest)
	case "down":
		return labDown(env, rest)
	case "exec":
		return labExec(rest)
	case "list":
		return labList(env)
	case "path":
		cfg, err := labArg(rest)
		if err == nil {
			fmt.Fprintln(env.stdout, cfg.NetNSPath())
		}
		return err
	}
	return fmt.Errorf("unknown lab verb %q\n%s", verb, labUsage)
}

// labArg returns the configuration of the lab named by the only argument.
func labArg(args []string) (lab.Config, error) {
	if len(args) != 1 {
		return lab.Config{}, errors.New(labUsage)
	}
	cfg := lab.DefaultConfig(args[0])
	return cfg, cfg.Validate()
}

func labUp(env *environment, args []string) error {
	fs := flag.NewFlagSet("lab up", flag.ContinueOnError)
	cidr := fs.String("service-cidr", "10.96.0.0/12", "service CIDR routed into the empty service bridge")
	if len(args) == 0 {
		return errors.New(labUsage)
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cfg := lab.DefaultConfig(args[0])
	prefix, err := netip.ParsePrefix(*cidr)
	if err != nil {
		return fmt.Errorf("--service-cidr: %w", err)
	}
	cfg.ServiceCIDR = prefix.Masked()
	n, err := lab.Up(cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "lab %s is up: netns %s, state %s\n", cfg.Name, n.NetNSPath(), n.StateDir())
	return nil
}

func labDown(env *environment, args []string) error {
	if len(args) == 1 && args[0] == "--all" {
		labs, err := lab.List(lab.DefaultConfig(""))
		if err != nil {
			return err
		}
		var errs []error
		for _, cfg := range labs {
			errs = append(errs, lab.Down(cfg))
			fmt.Fprintf(env.stdout, "lab %s removed\n", cfg.Name)
		}
		return errors.Join(errs...)
	}
	cfg, err := labArg(args)
	if err != nil {
		return err
	}
	if err := lab.Down(cfg); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "lab %s removed\n", cfg.Name)
	return nil
}

func labList(env *environment) error {
	labs, err := lab.List(lab.DefaultConfig(""))
	for _, cfg := range labs {
		fmt.Fprintf(env.stdout, "%s\t%s\n", cfg.Name, cfg.NetNSPath())
	}
	return err
}

// labExec replaces this process with the command, inside the lab's netns.
func labExec(args []string) error {
	if len(args) < 3 || args[1] != "--" {
		return errors.New(labUsage)
	}
	cfg, err := labArg(args[:1])
	if err != nil {
		return err
	}
	argv := args[2:]
	bin, err := exec.LookPath(argv[0])
	if err != nil {
		return err
	}
	f, err := os.Open(cfg.NetNSPath())
	if err != nil {
		return fmt.Errorf("lab %s: %w", cfg.Name, err)
	}
	runtime.LockOSThread()
	if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("enter lab %s: %w", cfg.Name, err)
	}
	os.Setenv("NODEAGENT_LAB", cfg.Name)
	return syscall.Exec(bin, argv, os.Environ())
}
