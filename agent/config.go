package agent

import (
	"time"

	"github.com/nodeagent/nodeagent/agent/shutdown"
	"github.com/nodeagent/nodeagent/cni"
	"github.com/nodeagent/nodeagent/cri/crilog"
	"github.com/nodeagent/nodeagent/gc"
)

// Config is the agent's configuration; DefaultConfig documents defaults.
// New fills the paths and intervals left empty from it (withDefaults) and
// refuses what the agent cannot run with (Validate), naming the flag.
type Config struct {
	// NodeName is this node's name in the API.
	NodeName string
	// NodeIP is the node's InternalIP; empty: the first non-loopback IPv4.
	NodeIP string
	// PodCIDR is this node's pod range, used for the default CNI network
	// when /etc/cni/net.d holds none.
	PodCIDR string
	// ClusterDNS is the nameserver of ClusterFirst pods.
	ClusterDNS string
	// ClusterDomain is the cluster's DNS domain.
	ClusterDomain string
	// RootDir holds pod directories (resolv.conf, hosts, volumes).
	RootDir string
	// PodLogDir holds container logs: <ns>_<pod>_<uid>/<container>/<n>.log.
	PodLogDir string
	// NetNSDir holds the pods' network namespaces.
	NetNSDir string
	// NetNSPrefix starts the name of every pod network namespace.
	NetNSPrefix string
	// IPAMDir is where the default network's host-local IPAM keeps its
	// reservations.
	IPAMDir string
	// CNI says where CNI configuration, plugins and caches are.
	CNI cni.Config
	// Port serves the agent's API (logs) over HTTPS.
	Port int
	// MaxPods is the pods capacity reported for the node.
	MaxPods int
	// LeaseDuration is the node Lease's duration; RenewInterval how often
	// it is renewed.
	LeaseDuration, RenewInterval time.Duration
	// StatusInterval is how often the node's status is posted.
	StatusInterval time.Duration
	// RelistPeriod is the PLEG's safety-net relist period.
	RelistPeriod time.Duration
	// Workers is how many pods are synced at once. Default 110, the
	// default max pods: kubelet syncs every pod at once (a goroutine each),
	// and a burst of pods starts faster when none waits for a worker (30
	// pods at once: p99 5.3 s with 30 workers, 6.1-6.5 s with 8, in the
	// agent bench); an idle worker is a blocked goroutine.
	Workers int
	// ClientCA (PEM) verifies client certificates on the agent's API; empty:
	// only bearer tokens (reviewed by the API server) are accepted.
	ClientCA []byte
	// TLSCertFile and TLSPrivateKeyFile are the API's serving certificate
	// and key (PEM), issued by the cluster CA for the node's name and
	// addresses. Empty: a self-signed one, which the API server refuses.
	TLSCertFile, TLSPrivateKeyFile string
	// HealthzPort serves /healthz, and nothing else, over plain HTTP on
	// HealthzBindAddress, for local checks without credentials; 0: off.
	HealthzPort int
	// HealthzBindAddress is the healthz listener's address (loopback).
	HealthzBindAddress string
	// PodManifestPath is a directory of static pod manifests (*.yaml,
	// *.yml, *.json; one Pod each); empty: no static pods.
	PodManifestPath string
	// ManifestCheckInterval is how often PodManifestPath is rescanned.
	ManifestCheckInterval time.Duration
	// VolumeRefreshPeriod is how often configMap, secret, projected and
	// downwardAPI volumes of running pods are written again from the API
	// (0: 30 s). A downwardAPI volume follows a change of the pod at once.
	VolumeRefreshPeriod time.Duration
	// TestHoldVolumeStep is for tests only (set from the environment
	// variable NODEAGENT_TEST_HOLD_VOLUME_STEP): a volume stage that
	// reaches this step (attach, format, mount, staged) logs "test hold"
	// and waits until the agent is killed, so that a test can kill it
	// there. Empty: never.
	TestHoldVolumeStep string
	// ProtectedPaths are host directories, besides RootDir, that no
	// hostPath volume may reach (the embedded API server's data dir: etcd,
	// the CA key).
	ProtectedPaths []string
	// GC is the image and container garbage collectors' policy (gc/,
	// kubelet's flags and defaults); its PodLogDir is always PodLogDir.
	GC gc.Config
	// ContainerLogRotation bounds every container's log
	// (--container-log-max-size 10Mi, --container-log-max-files 5); a zero
	// MaxSize: never rotated.
	ContainerLogRotation crilog.Rotation
	// Shutdown is graceful node shutdown (--shutdown-grace-period,
	// --shutdown-grace-period-critical-pods; 0: off). It also needs an
	// Inhibitor (WithShutdownInhibitor): logind on a systemd host.
	Shutdown shutdown.Config
	// Resources are the QoS cgroups, node allocatable, eviction and
	// cgroup and eviction settings (config_resources.go).
	Resources ResourceConfig
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		PodCIDR:        "10.244.0.0/24",
		ClusterDNS:     "10.96.0.10",
		ClusterDomain:  "cluster.local",
		RootDir:        "/var/lib/nodeagent/agent",
		PodLogDir:      "/var/log/pods",
		NetNSDir:       "/var/run/netns",
		NetNSPrefix:    "nodeagent-",
		IPAMDir:        "/var/lib/nodeagent/cni/networks",
		CNI:            cni.DefaultConfig(),
		Port:           10250,
		HealthzPort:    10248,
		MaxPods:        110,
		LeaseDuration:  40 * time.Second,
		RenewInterval:  10 * time.Second,
		StatusInterval: 10 * time.Second,
		RelistPeriod:   60 * time.Second,
		Workers:        110,

		ManifestCheckInterval: 5 * time.Second,
		HealthzBindAddress:    "127.0.0.1",

		GC:                   gc.DefaultConfig(),
		ContainerLogRotation: crilog.Rotation{MaxSize: 10 << 20, MaxFiles: 5},
		Resources:            defaultResourceConfig(),
	}
}
