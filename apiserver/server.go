package apiserver

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeobj "k8s.io/apimachinery/pkg/runtime"

	"github.com/nodeagent/nodeagent/apiserver/auth"
	"github.com/nodeagent/nodeagent/apiserver/satoken"
	"github.com/nodeagent/nodeagent/apiserver/storage"
	"github.com/nodeagent/nodeagent/certs"
)

// Config is the API server's configuration. Flags and a config file map
// onto it; DefaultConfig documents the defaults.
type Config struct {
	// DataDir holds the embedded etcd, the PKI and the admin kubeconfig.
	DataDir string
	// EtcdServers, when set, are an external etcd cluster to use instead of
	// the embedded one.
	EtcdServers []string
	// EtcdTLS are the CA, client certificate and key files for EtcdServers
	// (kube-apiserver's --etcd-cafile, --etcd-certfile, --etcd-keyfile).
	EtcdTLS storage.ClientTLS
	// BindAddress is the address to listen on.
	BindAddress string
	// Port is the HTTPS port.
	Port int
	// AdvertiseAddress is the address clients are given (kubeconfigs,
	// /api's serverAddressByClientCIDRs). Empty: the first non-loopback
	// address found, or 127.0.0.1.
	AdvertiseAddress string
	// ExtraSANs are more names or IPs for the serving certificate.
	ExtraSANs []string
	// TokenFile is a static token file (token,user,uid,"groups"); optional.
	TokenFile string
	// KubeletCertificateAuthority is a PEM file of the CAs that sign node
	// agents' serving certificates; empty: the cluster CA.
	KubeletCertificateAuthority string
	// CompactionInterval is how often etcd history is compacted.
	CompactionInterval time.Duration
	// Watch bounds what a slow watcher may hold.
	Watch storage.WatchLimits
	// ServiceClusterIPRange is the CIDR Services' cluster IPs come from; its
	// first address is the kubernetes Service's. Default 10.96.0.0/12.
	ServiceClusterIPRange string
	// ServiceNodePortRange is the node port range, "FROM-TO" inclusive.
	// Default 30000-32767.
	ServiceNodePortRange string
	// EventTTL is how long an Event lives after its last write
	// (kube-apiserver's --event-ttl). Default 1 h.
	EventTTL time.Duration
	// IdleTimeout closes a keep-alive connection that has been idle this
	// long (HTTP/1.1 and HTTP/2). Default 90 s, as kube-apiserver.
	IdleTimeout time.Duration
	// ServiceAccountIssuer is the iss of the service account tokens the
	// server signs (kube's --service-account-issuer). Default
	// https://kubernetes.default.svc.cluster.local.
	ServiceAccountIssuer string
	// APIAudiences are the audiences a token must name to be accepted by
	// the API (kube's --api-audiences). Default: the issuer.
	APIAudiences []string
	// NoWatchCache makes every list and watch read etcd (kube's
	// --watch-cache=false); by default each resource has a watch cache.
	NoWatchCache bool
	// Profiling serves Go's profiles under /debug/pprof/ (kube's
	// --profiling) to users authorized for those paths (system:masters,
	// cluster-admin).
	Profiling bool
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		DataDir:               "/var/lib/nodeagent/server",
		BindAddress:           "0.0.0.0",
		Port:                  6443,
		CompactionInterval:    5 * time.Minute,
		ServiceClusterIPRange: "10.96.0.0/12",
		ServiceNodePortRange:  "30000-32767",
		IdleTimeout:           90 * time.Second,
		EventTTL:              time.Hour,
		ServiceAccountIssuer:  "https://kubernetes.default.svc.cluster.local",
		Profiling:             true,
	}
}

// Server is a running API server.
type Server struct {
	cfg              Config
	log              *slog.Logger
	codecs           *codecs
	fields           *fieldManagers
	reg              *registry
	stores           map[*resource]*storage.Store
	backend          *storage.Backend
	authn            *auth.Authenticator
	authz            *auth.Authorizer
	ca               *certs.CA
	caPool           *x509.CertPool
	serving          *certs.KeyPair
	nodeAgentsClient *http.Client // to node agents (agentclient.go)
	advertise        string
	now              func() time.Time
	watchLimits      storage.WatchLimits
	services         *serviceAllocation
	tokens           *satoken.Signer // service account tokens (tokenrequest.go)
	rbac             *auth.RBACIndex // the RBAC authorizer's roles and bindings (rbac_index.go)
	stopRBAC         context.CancelFunc
	crd              *crdScheme         // CustomResourceDefinition conversion and defaults (crd.go)
	custom           *customRegistry    // the custom resources served (crd_registry.go)
	stopCRDs         func()             // stops the definitions' loop and waits for it
	stopCaches       context.CancelFunc // stops every watch cache
	customCaches     *customCaches      // the custom resources' stores (watchcache_crd.go)
	encodings        *encodings         // watch events encoded once for all their watches (watch_encode.go)
}

// New opens storage, makes or loads the PKI, writes the admin kubeconfig and
// creates the namespaces every cluster has.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("server configuration: %w", err)
	}
	crds, err := newCRDScheme()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: log, codecs: newCodecs(), reg: newRegistry(servedResources(crds)),
		now: time.Now, watchLimits: cfg.Watch, crd: crds, custom: newCustomRegistry(),
		encodings: newEncodings(sharedEncodings)}
	s.fields = newFieldManagers(s.codecs.scheme)
	backend, err := openBackend(ctx, cfg)
	if err != nil {
		return nil, err
	}
	s.backend = backend
	s.stores = map[*resource]*storage.Store{}
	leases := storage.NewLeases(backend.Client, s.now)
	for _, r := range s.reg.list {
		if r.virtual {
			continue
		}
		s.stores[r] = storage.NewStore(backend.Client, "/registry/"+r.plural, r.newObj)
		if r.gvk.Kind == "Event" && (r.gvk.Group == "" || r.gvk.Group == eventsV1.Group) {
			s.stores[r].Expire(cmp.Or(cfg.EventTTL, DefaultConfig().EventTTL), leases)
		}
		if r.gvk == eventsV1.WithKind("Event") {
			s.stores[r].Convert(eventsV1Storage)
		}
	}
	if err := s.setup(ctx); err != nil {
		backend.Close()
		return nil, err
	}
	s.customCaches = s.newCustomCaches()
	if err := s.startCRDs(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.startWatchCaches(); err != nil {
		s.Close()
		return nil, err
	}
	s.startRBAC()
	return s, nil
}

// servedResources are the built-in resources, every group's.
func servedResources(crds *crdScheme) []*resource {
	var all []*resource
	for _, group := range [][]*resource{resources(), reviewResources(), storageResources(), schedulingResources(),
		rbacResources(), appsResources(), batchResources(), networkingResources(), eventsResources(),
		certificatesResources(), crdResources(crds)} {
		all = append(all, group...)
	}
	return all
}

// setup readies what New promises once storage is open.
func (s *Server) setup(ctx context.Context) error {
	if err := s.setupServiceAllocation(ctx); err != nil {
		return err
	}
	if err := s.setupPKI(); err != nil {
		return err
	}
	if err := s.ensureNamespaces(ctx); err != nil {
		return err
	}
	if err := s.ensureStorageDefaults(ctx); err != nil {
		return err
	}
	if err := s.ensureDefaultServiceCIDR(ctx); err != nil {
		return err
	}
	if err := s.ensureSystemPriorityClasses(ctx); err != nil {
		return err
	}
	if err := s.ensureDefaultRBAC(ctx); err != nil {
		return err
	}
	return s.ensureKubernetesService(ctx)
}

func openBackend(ctx context.Context, cfg Config) (*storage.Backend, error) {
	if len(cfg.EtcdServers) > 0 {
		return storage.Connect(ctx, cfg.EtcdServers, cfg.EtcdTLS)
	}
	if cfg.EtcdTLS != (storage.ClientTLS{}) {
		return nil, errors.New("the etcd client TLS files are for --etcd-servers; the embedded etcd is reached in-process")
	}
	return storage.StartEmbedded(ctx, cfg.DataDir)
}

func (s *Server) store(r *resource) *storage.Store {
	if r.custom != nil {
		return r.custom.store
	}
	return s.stores[r]
}

// Close stops storage.
func (s *Server) Close() error {
	if s.stopRBAC != nil {
		s.stopRBAC()
	}
	if s.stopCRDs != nil {
		s.stopCRDs()
	}
	if s.stopCaches != nil {
		s.stopCaches()
	}
	return s.backend.Close()
}

// AdminKubeconfig is the path of the admin kubeconfig.
func (s *Server) AdminKubeconfig() string { return filepath.Join(s.cfg.DataDir, "admin.kubeconfig") }

// DataDir holds the server's state: etcd, the PKI with the CA key.
func (s *Server) DataDir() string { return s.cfg.DataDir }

// URL is the server's address for clients.
func (s *Server) URL() string {
	return "https://" + net.JoinHostPort(s.advertise, strconv.Itoa(s.cfg.Port))
}

func (s *Server) ready(ctx context.Context) error {
	if s.rbac != nil && !s.rbac.Synced() {
		return errors.New("the RBAC authorizer has not read the roles and bindings yet")
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err := s.backend.Client.Get(ctx, "/registry/health", runtimeCountOnly())
	return err
}

// Serve answers HTTPS on l until ctx ends; it also compacts etcd history.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	go storage.NewCompactor(s.backend.Client, s.cfg.CompactionInterval, s.log).Run(ctx)
	go s.holdAPIServerLease(ctx)
	go s.keepKubernetesService(ctx, kubernetesServiceSyncPeriod)
	tlsCfg := &tls.Config{
		Certificates: []tls.Certificate{s.servingChain()},
		ClientCAs:    s.caPool,
		ClientAuth:   tls.VerifyClientCertIfGiven,
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"h2", "http/1.1"},
	}
	srv := s.httpServer(tlsCfg)
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	err := srv.Serve(tls.NewListener(l, tlsCfg))
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// httpServer has kube-apiserver's connection limits: 1 MiB of headers, 32 s
// to send them (which also bounds the TLS handshake of a connection that
// sends nothing), IdleTimeout for idle keep-alive connections; HTTP/2 at
// most 100 streams per connection with 256 KiB buffers each. There is no
// ReadTimeout: it would end watches (net/http cancels a request whose
// connection read times out).
func (s *Server) httpServer(tlsCfg *tls.Config) *http.Server {
	const stream = 256 << 10
	idle := s.cfg.IdleTimeout
	if idle <= 0 {
		idle = DefaultConfig().IdleTimeout
	}
	return &http.Server{Handler: s, TLSConfig: tlsCfg, MaxHeaderBytes: 1 << 20,
		ReadHeaderTimeout: 32 * time.Second, IdleTimeout: idle,
		HTTP2: &http.HTTP2Config{MaxConcurrentStreams: 100, MaxReadFrameSize: stream,
			MaxReceiveBufferPerStream: stream, MaxReceiveBufferPerConnection: 100 * stream},
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
}

// Listen opens the configured address.
func (s *Server) Listen() (net.Listener, error) {
	addr := net.JoinHostPort(s.cfg.BindAddress, strconv.Itoa(s.cfg.Port))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return l, nil
}

// ensureNamespaces creates default, kube-system, kube-public and
// kube-node-lease when they are missing.
func (s *Server) ensureNamespaces(ctx context.Context) error {
	res, _ := s.reg.lookup("", "v1", "namespaces")
	for _, name := range []string{"default", "kube-system", "kube-public", "kube-node-lease"} {
		ns := &corev1.Namespace{TypeMeta: metav1.TypeMeta{Kind: "Namespace", APIVersion: "v1"},
			ObjectMeta: metav1.ObjectMeta{Name: name, UID: newUID(), CreationTimestamp: metav1.NewTime(s.now()),
				Labels: map[string]string{"kubernetes.io/metadata.name": name}}}
		res.strategy.prepareCreate(ns)
		res.strategy.defaults(ns)
		_, err := s.store(res).Create(ctx, "", name, ns)
		if err != nil && !storage.IsExists(err) {
			return fmt.Errorf("create namespace %s: %w", name, err)
		}
	}
	return nil
}

// namespaceAcceptsContent refuses creating objects in a namespace that does
// not exist or is being deleted (kube's NamespaceLifecycle admission).
func (s *Server) namespaceAcceptsContent(q *request) error {
	if !q.res.namespaced {
		return nil
	}
	res, _ := s.reg.lookup("", "v1", "namespaces")
	obj, err := s.store(res).Get(q.ctx, "", q.info.namespace)
	if err != nil {
		return statusError(err, res.groupResource(), q.info.namespace)
	}
	if ns := obj.(*corev1.Namespace); ns.Status.Phase == corev1.NamespaceTerminating || ns.DeletionTimestamp != nil {
		return forbidden(nil, fmt.Sprintf("unable to create new content in namespace %s because it is being terminated", ns.Name), q.gr(), "")
	}
	return nil
}

func (s *Server) writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	encodeJSON(w, v)
}

func encodeJSON(w http.ResponseWriter, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func goVersion() string { return runtime.Version() }

var _ runtimeobj.Object = &metav1.Status{}
