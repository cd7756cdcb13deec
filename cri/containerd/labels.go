package containerd

import (
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"time"
)

// Labels on containerd containers. The public ones (everything without the
// prefixes below) are what List* report; the internal ones carry what a
// restarted agent needs to rebuild a sandbox or container; annotations are
// kept under their own prefix.
const (
	internalPrefix   = "io.nodeagent.cri."
	annotationPrefix = "io.nodeagent.annotation."

	// On sandboxes.
	labelName         = internalPrefix + "name"
	labelNetNS        = internalPrefix + "netns"
	labelHostname     = internalPrefix + "hostname"
	labelHostNetwork  = internalPrefix + "host-network"
	labelHostIPC      = internalPrefix + "host-ipc"
	labelHostPID      = internalPrefix + "host-pid"
	labelResolvConf   = internalPrefix + "resolv-conf"
	labelHosts        = internalPrefix + "hosts"
	labelCgroupParent = internalPrefix + "cgroup-parent"

	// On containers.
	labelSandboxID  = internalPrefix + "sandbox-id"
	labelImage      = internalPrefix + "image"
	labelImageID    = internalPrefix + "image-id"
	labelLogPath    = internalPrefix + "log-path"
	labelStopSignal = internalPrefix + "stop-signal"
	labelStartedAt  = internalPrefix + "started-at"
	labelOOMKilled  = internalPrefix + "oom-killed"
)

// maxLabelSize is containerd's limit on a label's key and value together.
const maxLabelSize = 4096

// timeFormat is how times are stored in labels.
const timeFormat = time.RFC3339Nano

// storedLabels merges public labels, internal labels and annotations into
// the set stored on a containerd container. A public label may not use the
// internal prefixes; an annotation too large for a label is left out (it is
// still in the OCI spec's annotations).
func storedLabels(public, internal, annotations map[string]string, log *slog.Logger) (map[string]string, error) {
	out := make(map[string]string, len(public)+len(internal)+len(annotations))
	for k, v := range public {
		if isInternal(k) {
			return nil, fmt.Errorf("label %q uses a prefix reserved by the runtime", k)
		}
		out[k] = v
	}
	maps.Copy(out, internal)
	for k, v := range annotations {
		key := annotationPrefix + k
		if len(key)+len(v) > maxLabelSize {
			log.Warn("annotation too large to keep as a label", "annotation", k, "bytes", len(v))
			continue
		}
		out[key] = v
	}
	return out, nil
}

// publicLabels returns the labels of a stored set that List* report.
func publicLabels(stored map[string]string) map[string]string {
	out := make(map[string]string, len(stored))
	for k, v := range stored {
		if !isInternal(k) {
			out[k] = v
		}
	}
	return out
}

func isInternal(key string) bool {
	return strings.HasPrefix(key, internalPrefix) || strings.HasPrefix(key, annotationPrefix)
}

// boolLabel stores true as "true" and false as no label.
func boolLabel(labels map[string]string, key string, v bool) {
	if v {
		labels[key] = "true"
	}
}

// timeLabel parses a time stored by timeFormat; zero when absent or bad.
func timeLabel(labels map[string]string, key string) time.Time {
	t, err := time.Parse(timeFormat, labels[key])
	if err != nil {
		return time.Time{}
	}
	return t
}

// setIfNotEmpty stores v under key when it is not empty.
func setIfNotEmpty(labels map[string]string, key, v string) {
	if v != "" {
		labels[key] = v
	}
}
