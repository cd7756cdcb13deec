package cm

import (
	"os"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// ReadCapacity is the machine's capacity as kubelet counts it: its CPUs,
// its memory (sysinfo's total RAM), the size of the filesystem that holds
// rootDir (ephemeral storage) and the most process IDs (pid_max under
// procRoot, internal: the node does not report it).
func ReadCapacity(procRoot, rootDir string) corev1.ResourceList {
	var si unix.Sysinfo_t
	unix.Sysinfo(&si)
	out := corev1.ResourceList{
		corev1.ResourceCPU:    *resource.NewQuantity(int64(runtime.NumCPU()), resource.DecimalSI),
		corev1.ResourceMemory: *resource.NewQuantity(int64(si.Totalram)*int64(si.Unit), resource.BinarySI),
	}
	var fs unix.Statfs_t
	if err := unix.Statfs(rootDir, &fs); err == nil {
		out[corev1.ResourceEphemeralStorage] = *resource.NewQuantity(int64(fs.Blocks)*fs.Bsize, resource.BinarySI)
	}
	if b, err := os.ReadFile(procRoot + "/sys/kernel/pid_max"); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil {
			out[ResourcePID] = *resource.NewQuantity(n, resource.DecimalSI)
		}
	}
	return out
}
