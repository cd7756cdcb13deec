package cni

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/version"
)

// call is one plugin invocation seen by fakeExec.
type call struct {
	plugin  string
	command string
	netns   string
	args    string
	stdin   map[string]any
}

// fakeExec stands in for plugin binaries: "bridge" answers ADD with a fixed
// result, every other plugin passes its prevResult on, as chained plugins do.
type fakeExec struct {
	calls []call
	fail  map[string]error // command/plugin -> error
}

var _ invoke.Exec = &fakeExec{}

const bridgeResult = `{"cniVersion":"1.0.0",
 "interfaces":[{"name":"na-cni0","mac":"aa:aa:aa:aa:aa:aa"},{"name":"veth1","mac":"bb:bb:bb:bb:bb:bb"},
               {"name":"eth0","mac":"cc:cc:cc:cc:cc:cc","sandbox":"/var/run/netns/p"}],
 "ips":[{"interface":0,"address":"10.244.0.1/24"},{"interface":2,"address":"10.244.0.7/24","gateway":"10.244.0.1"}]}`

func (f *fakeExec) ExecPlugin(_ context.Context, pluginPath string, stdin []byte, environ []string) ([]byte, error) {
	c := call{plugin: strings.TrimPrefix(pluginPath, "/fake/")}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "CNI_COMMAND":
			c.command = v
		case "CNI_NETNS":
			c.netns = v
		case "CNI_ARGS":
			c.args = v
		}
	}
	if err := json.Unmarshal(stdin, &c.stdin); err != nil {
		return nil, err
	}
	f.calls = append(f.calls, c)
	if err := f.fail[c.command+"/"+c.plugin]; err != nil {
		return nil, err
	}
	if c.command != "ADD" {
		return nil, nil
	}
	if c.plugin == "bridge" {
		return []byte(bridgeResult), nil
	}
	prev, ok := c.stdin["prevResult"]
	if !ok {
		return nil, fmt.Errorf("%s: no prevResult", c.plugin)
	}
	return json.Marshal(prev)
}

func (f *fakeExec) FindInPath(plugin string, _ []string) (string, error) {
	return "/fake/" + plugin, nil
}

func (f *fakeExec) Decode(b []byte) (version.PluginInfo, error) {
	return version.PluginSupports("0.4.0", "1.0.0"), nil
}

// commands lists "COMMAND plugin" for every call, in order.
func (f *fakeExec) commands() []string {
	var out []string
	for _, c := range f.calls {
		out = append(out, c.command+" "+c.plugin)
	}
	return out
}
