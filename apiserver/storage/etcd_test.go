package storage

import (
	"bufio"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// listeningSockets lists the sockets of this process that listen: TCP
// (/proc/self/net/tcp{,6}: state 0A, inode in field 9) and unix
// (/proc/self/net/unix: flags 00010000, inode in field 6).
func listeningSockets(t *testing.T) []string {
	t.Helper()
	mine := socketInodes(t)
	var out []string
	for _, table := range []struct {
		file         string
		field, inode int
		value        string
	}{
		{"/proc/self/net/tcp", 3, 9, "0A"},
		{"/proc/self/net/tcp6", 3, 9, "0A"},
		{"/proc/self/net/unix", 3, 6, "00010000"},
	} {
		f, err := os.Open(table.file)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) > table.inode && fields[table.field] == table.value && mine[fields[table.inode]] {
				out = append(out, table.file+": "+sc.Text())
			}
		}
		f.Close()
	}
	return out
}

// socketInodes are the inodes of the sockets this process has open.
func socketInodes(t *testing.T) map[string]bool {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if inode, ok := strings.CutPrefix(link, "socket:["); err == nil && ok {
			out[strings.TrimSuffix(inode, "]")] = true
		}
	}
	return out
}

// The embedded etcd is reached in-process only: it listens on no TCP port
// and no unix socket, so no local user or hostNetwork pod can reach it.
func TestEmbeddedEtcdListensOnNothing(t *testing.T) {
	if l := listeningSockets(t); len(l) != 0 {
		t.Fatalf("the process with an embedded etcd listens on:\n%s", strings.Join(l, "\n"))
	}
	if _, err := backend.Client.Get(context.Background(), "/registry/x"); err != nil {
		t.Fatalf("the in-process client: %v", err)
	}
}

// What the embedded etcd keeps is for this user only: directories 0700,
// files 0600 or stricter, also when the data directory existed before with
// a looser mode.
func TestEmbeddedEtcdFilesArePrivate(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := StartEmbedded(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Client.Put(context.Background(), "/registry/secrets/default/s", "secret"); err != nil {
		t.Fatal(err)
	}
	b.Close()
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s is %v: readable by others", path, info.Mode().Perm())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
