package cm

import (
	"fmt"
	"os"
)

// Driver is how cgroups are made: by writing cgroupfs, or by asking
// systemd for slices.
type Driver string

const (
	DriverCgroupfs Driver = "cgroupfs"
	DriverSystemd  Driver = "systemd"
)

// DetectDriver picks the driver as kubelet's docs advise: systemd when
// systemd runs the machine (it is PID 1: /run/systemd/system exists, as
// sd_booted checks), cgroupfs otherwise. runDir is /run.
func DetectDriver(runDir string) Driver {
	if st, err := os.Stat(runDir + "/systemd/system"); err == nil && st.IsDir() {
		return DriverSystemd
	}
	return DriverCgroupfs
}

// ParseDriver reads --cgroup-driver: "cgroupfs", "systemd", or "" (detect).
func ParseDriver(v string) (Driver, error) {
	switch Driver(v) {
	case "", DriverCgroupfs, DriverSystemd:
		return Driver(v), nil
	}
	return "", fmt.Errorf("--cgroup-driver: %q is neither cgroupfs nor systemd", v)
}
