// Command nodeagent makes a Linux machine a Kubernetes node. This file only
// dispatches to subcommands; each subcommand wires its components explicitly.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// command is one subcommand: its name, a one-line summary and its entry point.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *environment, args []string) error
}

// environment is what every subcommand gets from main: streams and a
// logger, whose level is logLevel (set by --log-level; nil in tests), the
// command's section of the --config file (nil without one), and the
// service manager's readiness protocol (nil when not run by systemd).
type environment struct {
	stdout   io.Writer
	stderr   io.Writer
	log      *slog.Logger
	logLevel *slog.LevelVar
	config   *commandConfig
	notify   notifier
	ready    *readiness
	// readyGrace bounds how long the service manager waits for READY=1
	// (0: until every part is ready). `nodeagent join` sets it on a start
	// that reuses an earlier join: with the server down the node cannot
	// be Ready, yet the agent runs and keeps its pods, as kubelet does.
	readyGrace time.Duration
}

func commands() []command {
	return []command{
		{"version", "print the version of nodeagent and of the Go toolchain", runVersion},
		{"server", "run the API server (embedded etcd, HTTPS, authn/authz)", runServer},
		{"agent", "run the node agent (kubelet) against an API server", runAgent},
		{"proxy", "run the service proxy (kube-proxy) against an API server", runProxy},
		{"dns", "run the cluster DNS server alone against an API server", runDNS},
		{"kubeconfig", "mint credentials: kubeconfig node NAME", runKubeconfig},
		{"token", "make a join token and print the join command: token create", runToken},
		{"join", "join this machine to a cluster as a node: join URL --token T --discovery-token-ca-cert-hash H", runJoin},
		{"lab", "create, enter and remove lab node network namespaces", runLab},
		{"pause", "the pod sandbox's process (run by containerd, not by hand)", runPause},
		{"cri-logger", "writes a container's output as a CRI log (run by containerd)", runCRILogger},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	level := new(slog.LevelVar)
	env := &environment{
		stdout:   os.Stdout,
		stderr:   os.Stderr,
		log:      newLogger(os.Stderr, "text", level),
		logLevel: level,
		notify:   systemdNotifier(),
	}
	err := dispatch(ctx, env, os.Args[1:])
	env.stopping()
	if err != nil {
		fmt.Fprintf(os.Stderr, "nodeagent: %v\n", err)
		os.Exit(1)
	}
}

func dispatch(ctx context.Context, env *environment, args []string) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(env.stdout)
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			rest, err := env.setupConfig(c.name, args[1:])
			if err != nil {
				return err
			}
			if rest, err = env.setupLogging(rest); err != nil {
				return err
			}
			return c.run(ctx, env, rest)
		}
	}
	usage(env.stderr)
	return fmt.Errorf("unknown command %q", args[0])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: nodeagent <command> [flags]")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nevery command also takes:")
	fmt.Fprintln(w, "  --log-level debug|info|warn|error   least severe records logged (default info)")
	fmt.Fprintln(w, "  --log-format text|json              log record format on stderr (default text)")
	fmt.Fprintln(w, "server, agent, proxy, dns and join also take:")
	fmt.Fprintln(w, "  --config FILE                       flags from a file (apiVersion "+configAPIVersion+", kind "+configKind+"); the command line wins")
	fmt.Fprintln(w, "                                      (join: the file's agent section, default "+defaultJoinConfig+" if it exists)")
}

// setupConfig takes --config out of a command's arguments and loads the
// command's section of that file; its logging flags go before the
// command line's, which win.
func (env *environment) setupConfig(command string, args []string) ([]string, error) {
	rest, taken, err := takeFlags(args, "config")
	if err != nil {
		return nil, err
	}
	if len(taken) > 1 {
		return nil, fmt.Errorf("--config given %d times", len(taken))
	}
	if env.config, err = commandConfigFor(command, taken); err != nil || env.config == nil {
		return rest, err
	}
	return append(env.config.takeLogFlags(), rest...), nil
}

// setupLogging takes the logging flags out of a command's arguments and
// makes env's logger follow them.
func (env *environment) setupLogging(args []string) ([]string, error) {
	rest, opts, err := splitLogFlags(args)
	if err != nil {
		return nil, err
	}
	if env.logLevel == nil {
		env.logLevel = new(slog.LevelVar)
	}
	env.logLevel.Set(opts.level)
	env.log = newLogger(env.stderr, opts.format, env.logLevel)
	routeKlog(env.log)
	return rest, nil
}
