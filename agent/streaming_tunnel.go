package agent

import (
	"bufio"
	"net"
	"net/http"

	gwebsocket "github.com/gorilla/websocket"
	clientpf "k8s.io/client-go/tools/portforward"
	"k8s.io/cri-streaming/pkg/streaming/portforward"
	"k8s.io/streaming/pkg/httpstream"
	"k8s.io/streaming/pkg/httpstream/spdy"
	"k8s.io/streaming/pkg/httpstream/wsstream"
)

// wantsTunnel reports a port-forward request over WebSocket that tunnels
// SPDY (subprotocol SPDY/3.1+portforward.k8s.io), as kubectl 1.30 and
// later send it.
func wantsTunnel(r *http.Request) bool { return wsstream.IsWebSocketRequestWithTunnelingProtocol(r) }

// serveTunnel upgrades to WebSocket and serves SPDY port-forwarding inside
// it: cri-streaming's SPDY server, given the tunnel as the hijacked
// connection.
func (s *streaming) serveTunnel(w http.ResponseWriter, r *http.Request, fwd forwarder) {
	up := gwebsocket.Upgrader{
		Subprotocols: []string{portforward.WebsocketsSPDYTunnelingPortForwardV1},
		// Not a browser's endpoint: callers are authenticated by
		// certificate or token, never by cookie.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	if !wantsProtocol(r, portforward.WebsocketsSPDYTunnelingPortForwardV1) {
		http.Error(w, "unable to upgrade: the only tunnelling protocol served is "+portforward.WebsocketsSPDYTunnelingPortForwardV1, http.StatusBadRequest)
		return
	}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		s.log.Debug("websocket upgrade failed", "path", r.URL.Path, "err", err)
		return // Upgrade answered the client
	}
	tunnel := clientpf.NewTunnelingConnection("server", ws)
	defer tunnel.Close()
	portforward.ServePortForward(&tunnelWriter{conn: tunnel, header: http.Header{}}, spdyRequest(r), fwd,
		r.PathValue("pod"), "", &portforward.V4Options{}, streamIdleTimeout, streamCreationTimeout, portforward.SupportedProtocols)
}

func wantsProtocol(r *http.Request, want string) bool {
	for _, p := range gwebsocket.Subprotocols(r) {
		if p == want {
			return true
		}
	}
	return false
}

// spdyRequest is r as a SPDY upgrade asking for portforward.k8s.io, which
// the SPDY server inside the tunnel answers.
func spdyRequest(r *http.Request) *http.Request {
	out := r.Clone(r.Context())
	out.Method = http.MethodPost
	out.Header = http.Header{}
	out.Header.Set(httpstream.HeaderConnection, httpstream.HeaderUpgrade)
	out.Header.Set(httpstream.HeaderUpgrade, spdy.HeaderSpdy31)
	out.Header.Set(httpstream.HeaderProtocolVersion, portforward.ProtocolV1Name)
	return out
}

// tunnelWriter is the response of the SPDY upgrade inside the tunnel: its
// status line and headers go nowhere (the tunnelling client starts SPDY at
// once), and hijacking it gives the tunnel.
type tunnelWriter struct {
	conn   net.Conn
	header http.Header
}

func (t *tunnelWriter) Header() http.Header         { return t.header }
func (t *tunnelWriter) WriteHeader(int)             {}
func (t *tunnelWriter) Write(p []byte) (int, error) { return len(p), nil }

func (t *tunnelWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return t.conn, bufio.NewReadWriter(bufio.NewReader(t.conn), bufio.NewWriter(t.conn)), nil
}
