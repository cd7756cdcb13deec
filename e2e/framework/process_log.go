package framework

import "os"

// Log returns what the process has written to its log so far.
func (p *Process) Log() string {
	b, _ := os.ReadFile(p.s.LogPath)
	return string(b)
}
