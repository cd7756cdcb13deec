package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// A config file (`--config /etc/nodeagent/config.yaml`) holds flags, a
// section per command, versioned as kubelet's KubeletConfiguration is:
//
//	apiVersion: nodeagent.io/v1alpha1
//	kind: NodeAgentConfiguration
//	server:
//	  data-dir: /var/lib/nodeagent/server
//	  proxy-mode: nftables
//	  tls-san: [lab.example, 192.0.2.10]
//
// Keys are the command's flag names (as k3s's config.yaml), values a
// string, number, boolean or a list of them (joined with commas). A flag
// given on the command line wins over the file. Unknown keys, sections,
// versions and kinds are errors naming the key, as are a file others may
// write (it configures a root daemon) and the keys that only make sense
// once (config, cleanup).

const (
	configAPIVersion = "nodeagent.io/v1alpha1"
	configKind       = "NodeAgentConfiguration"
)

// configCommands are the commands that take --config.
var configCommands = []string{"server", "agent", "proxy", "dns"}

// configDoc is the file as written.
type configDoc struct {
	APIVersion string                     `json:"apiVersion"`
	Kind       string                     `json:"kind"`
	Server     map[string]json.RawMessage `json:"server,omitempty"`
	Agent      map[string]json.RawMessage `json:"agent,omitempty"`
	Proxy      map[string]json.RawMessage `json:"proxy,omitempty"`
	DNS        map[string]json.RawMessage `json:"dns,omitempty"`
}

// commandConfig is one command's section: flag name → value.
type commandConfig struct {
	path    string
	command string
	flags   map[string]string
}

// loadCommandConfig reads path and returns command's section (empty when
// the file has none).
func loadCommandConfig(path, command string) (*commandConfig, error) {
	if !slices.Contains(configCommands, command) {
		return nil, fmt.Errorf("--config: nodeagent %s takes no config file (only %s and join do)", command, strings.Join(configCommands, ", "))
	}
	data, err := readConfigFile(path)
	if err != nil {
		return nil, err
	}
	doc, err := decodeConfig(data)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	raw := map[string]map[string]json.RawMessage{"server": doc.Server, "agent": doc.Agent, "proxy": doc.Proxy, "dns": doc.DNS}[command]
	c := &commandConfig{path: path, command: command, flags: map[string]string{}}
	for k, v := range raw {
		s, err := flagValue(v)
		if err != nil {
			return nil, c.errorf(k, "%v", err)
		}
		c.flags[k] = s
	}
	return c, nil
}

// defaultJoinConfig is the file `nodeagent join` reads without --config:
// the one nodeagent.service gives the server, so that a joined node's
// agent runs as the cluster's machines do (proxy-mode and the like).
const defaultJoinConfig = "/etc/nodeagent/config.yaml"

// commandConfigFor loads the --config file given (taken: none or one) for
// command. `nodeagent join` reads the agent section, since the agent is
// what it runs, of defaultJoinConfig when no --config is given and that
// file exists. Its own arguments (server, token, CA pin) have no section:
// the token is a credential and the config file is world-readable
// (0644, as examples/systemd/config.yaml installs it); they stay on the
// command line (join.env, 0600).
func commandConfigFor(command string, taken []takenFlag) (*commandConfig, error) {
	switch {
	case command == "join":
		return joinConfig(taken, defaultJoinConfig)
	case len(taken) == 0:
		return nil, nil
	}
	return loadCommandConfig(taken[0].value, command)
}

// joinConfig is the agent section of the file given, else of defaultPath
// if it exists.
func joinConfig(taken []takenFlag, defaultPath string) (*commandConfig, error) {
	path := defaultPath
	if len(taken) > 0 {
		path = taken[0].value
	} else if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return loadCommandConfig(path, "agent")
}

// readConfigFile reads a regular file that only its owner may write.
func readConfigFile(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("config %s: not a regular file", path)
	}
	if st.Mode().Perm()&0o022 != 0 {
		return nil, fmt.Errorf("config %s: mode %v lets group or others write it: it configures a root daemon (chmod go-w)", path, st.Mode().Perm())
	}
	return os.ReadFile(path)
}

// decodeConfig parses YAML (or JSON) strictly: no duplicate or unknown
// keys, this apiVersion and kind.
func decodeConfig(data []byte) (*configDoc, error) {
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	var doc configDoc
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	if doc.APIVersion != configAPIVersion {
		return nil, fmt.Errorf("apiVersion: Unsupported value: %q: supported values: %q", doc.APIVersion, configAPIVersion)
	}
	if doc.Kind != configKind {
		return nil, fmt.Errorf("kind: Unsupported value: %q: supported values: %q", doc.Kind, configKind)
	}
	return &doc, nil
}

// flagValue is a YAML value as a flag's text: scalars as written, lists
// joined with commas.
func flagValue(raw json.RawMessage) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", err
	}
	if list, ok := v.([]any); ok {
		parts := make([]string, 0, len(list))
		for _, e := range list {
			s, ok := scalarText(e)
			if !ok {
				return "", fmt.Errorf("a list holds strings, numbers or booleans")
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, ","), nil
	}
	s, ok := scalarText(v)
	if !ok {
		return "", fmt.Errorf("must be a string, number, boolean or a list of them")
	}
	return s, nil
}

func scalarText(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case bool:
		return strconv.FormatBool(v), true
	}
	return "", false
}

// notInConfig are flags a config file may not hold: --config itself, and
// --cleanup, which would wipe the node at every start.
var notInConfig = []string{"config", "cleanup"}

// takeLogFlags removes --log-level and --log-format from the section and
// returns them as arguments, to go before the command line's (which win).
func (c *commandConfig) takeLogFlags() []string {
	if c == nil {
		return nil
	}
	var args []string
	for _, k := range []string{"log-level", "log-format"} {
		if v, ok := c.flags[k]; ok {
			args = append(args, "--"+k+"="+v)
			delete(c.flags, k)
		}
	}
	return args
}

// apply sets, on a parsed flag set, every flag of the section that the
// command line did not set.
func (c *commandConfig) apply(fs *flag.FlagSet) error {
	if c == nil {
		return nil
	}
	onCommandLine := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { onCommandLine[f.Name] = true })
	keys := make([]string, 0, len(c.flags))
	for k := range c.flags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		switch {
		case slices.Contains(notInConfig, k):
			return c.errorf(k, "not allowed in a config file: give --%s on the command line", k)
		case fs.Lookup(k) == nil:
			return c.errorf(k, "nodeagent %s has no flag --%s", c.command, k)
		case onCommandLine[k]:
			continue
		}
		if err := fs.Set(k, c.flags[k]); err != nil {
			return c.errorf(k, "invalid value %q for flag --%s: %v", c.flags[k], k, err)
		}
	}
	return nil
}

// has says whether the section sets flag name.
func (c *commandConfig) has(name string) bool {
	if c == nil {
		return false
	}
	_, ok := c.flags[name]
	return ok
}

func (c *commandConfig) errorf(key, format string, args ...any) error {
	return fmt.Errorf("config %s: %s.%s: %s", c.path, c.command, key, fmt.Sprintf(format, args...))
}

// parseFlags parses a command's arguments, then fills in what the config
// file (if any) sets and the command line does not.
func (env *environment) parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	return env.config.apply(fs)
}
