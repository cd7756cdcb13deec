package framework

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// PID is the pid of the running server process (0 when none).
func (s *APIServer) PID() int {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// ListeningSockets lists what process pid listens on, in its own network
// namespace: "tcp 127.0.0.1:6443", "tcp6 [::]:10250", "unix /path" (or
// "unix @abstract").
func ListeningSockets(pid int) ([]string, error) {
	inodes, err := socketInodes(pid)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, proto := range []string{"tcp", "tcp6"} {
		l, err := listeningTCP(pid, proto, inodes)
		if err != nil {
			return nil, err
		}
		out = append(out, l...)
	}
	u, err := listeningUnix(pid, inodes)
	return append(out, u...), err
}

func socketInodes(pid int) (map[string]bool, error) {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	fds, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink(filepath.Join(dir, fd.Name()))
		if inode, ok := strings.CutPrefix(link, "socket:["); err == nil && ok {
			out[strings.TrimSuffix(inode, "]")] = true
		}
	}
	return out, nil
}

// procNetLines returns the fields of each line of /proc/<pid>/net/<name>
// after the header.
func procNetLines(pid int, name string) ([][]string, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/net/%s", pid, name))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out [][]string
	sc := bufio.NewScanner(f)
	sc.Scan()
	for sc.Scan() {
		out = append(out, strings.Fields(sc.Text()))
	}
	return out, sc.Err()
}

// listeningTCP: state 0A is LISTEN; field 1 the local address, 9 the inode.
func listeningTCP(pid int, proto string, inodes map[string]bool) ([]string, error) {
	lines, err := procNetLines(pid, proto)
	var out []string
	for _, f := range lines {
		if len(f) > 9 && f[3] == "0A" && inodes[f[9]] {
			out = append(out, proto+" "+hexAddr(f[1]))
		}
	}
	return out, err
}

// listeningUnix: flag 00010000 is __SO_ACCEPTCON; field 6 the inode, 7 the
// path.
func listeningUnix(pid int, inodes map[string]bool) ([]string, error) {
	lines, err := procNetLines(pid, "unix")
	var out []string
	for _, f := range lines {
		if len(f) > 6 && f[3] == "00010000" && inodes[f[6]] {
			path := "(unnamed)"
			if len(f) > 7 {
				path = f[7]
			}
			out = append(out, "unix "+path)
		}
	}
	return out, err
}

// hexAddr turns /proc/net/tcp's "0100007F:1913" into "127.0.0.1:6419"
// (IPv4) or leaves IPv6 hex with the port decoded.
func hexAddr(s string) string {
	host, port, ok := strings.Cut(s, ":")
	p, _ := strconv.ParseUint(port, 16, 16)
	if !ok || len(host) != 8 {
		return fmt.Sprintf("[%s]:%d", host, p)
	}
	b, _ := strconv.ParseUint(host, 16, 32)
	return fmt.Sprintf("%d.%d.%d.%d:%d", b&0xff, b>>8&0xff, b>>16&0xff, b>>24, p)
}
