package crilogger

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"

	"github.com/nodeagent/nodeagent/cri/crilog"
)

// Arg is the one argument the logger binary gets after its command
// word: the shim passes the logging URI's query as key/value arguments in
// no fixed order, so everything is in one value. Without rotation it is
// the log path, as before; with it a file URL whose query holds the
// rotation: file:///var/log/pods/.../0.log?max-size=10485760&max-files=5.
func Arg(logPath string, rot crilog.Rotation) string {
	if !rot.Enabled() {
		return logPath
	}
	q := url.Values{"max-size": {strconv.FormatInt(rot.MaxSize, 10)}, "max-files": {strconv.Itoa(rot.MaxFiles)}}
	return (&url.URL{Scheme: "file", Path: logPath, RawQuery: q.Encode()}).String()
}

// ParseArg reads Arg's value back.
func ParseArg(arg string) (string, crilog.Rotation, error) {
	if filepath.IsAbs(arg) {
		return arg, crilog.Rotation{}, nil
	}
	u, err := url.Parse(arg)
	if err != nil || u.Scheme != "file" || !filepath.IsAbs(u.Path) || u.Host != "" {
		return "", crilog.Rotation{}, fmt.Errorf("want an absolute log path or a file URL, not %q", arg)
	}
	q := u.Query()
	size, errSize := strconv.ParseInt(q.Get("max-size"), 10, 64)
	files, errFiles := strconv.Atoi(q.Get("max-files"))
	rot := crilog.Rotation{MaxSize: size, MaxFiles: files}
	if errSize != nil || errFiles != nil || !rot.Enabled() {
		return "", crilog.Rotation{}, fmt.Errorf("log URL %q: want max-size and max-files", arg)
	}
	return u.Path, rot, rot.Validate()
}
