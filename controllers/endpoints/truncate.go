package endpoints

import (
	corev1 "k8s.io/api/core/v1"
)

// truncate cuts subsets down to max addresses, as kube does, and reports
// whether it cut anything; a subset left with no address is dropped (it
// would not be valid). Ready addresses are kept first: when
// they alone exceed max, every not-ready address goes and the ready ones
// are cut; otherwise only not-ready addresses are cut. The kept share of
// each subset is proportional to its size (rounded up, so the last
// subsets may get less).
func truncate(subsets []corev1.EndpointSubset, max int) ([]corev1.EndpointSubset, bool) {
	ready, notReady := 0, 0
	for _, ss := range subsets {
		ready += len(ss.Addresses)
		notReady += len(ss.NotReadyAddresses)
	}
	if ready+notReady <= max {
		return subsets, false
	}
	cutReady := ready > max
	room, total := max-ready, notReady
	if cutReady {
		room, total = max, ready
	}
	left := room
	for i := range subsets {
		ss := &subsets[i]
		if cutReady {
			ss.Addresses = keep(ss.Addresses, share(len(ss.Addresses), total, room, left))
			ss.NotReadyAddresses = nil
			left -= len(ss.Addresses)
			continue
		}
		ss.NotReadyAddresses = keep(ss.NotReadyAddresses, share(len(ss.NotReadyAddresses), total, room, left))
		left -= len(ss.NotReadyAddresses)
	}
	out := subsets[:0]
	for _, ss := range subsets {
		if len(ss.Addresses)+len(ss.NotReadyAddresses) > 0 {
			out = append(out, ss)
		}
	}
	return out, true
}

// share is n's proportional part of room (n of total), rounded up, at
// most left.
func share(n, total, room, left int) int {
	s := (n*room + total - 1) / total
	return min(s, left)
}

func keep(as []corev1.EndpointAddress, n int) []corev1.EndpointAddress {
	if len(as) <= n {
		return as
	}
	return as[:n]
}
