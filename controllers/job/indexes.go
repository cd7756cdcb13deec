package job

import (
	"sort"
	"strconv"
	"strings"
)

// indexSet is a set of completion indexes, written in a Job's status as
// kube does: ascending, comma-separated, runs of three or more as
// "first-last" ("1,3-5,7"); kube writes runs of two as "1-2" as well.
type indexSet map[int]struct{}

// parseIndexes reads status.completedIndexes. Parts that are not indexes
// below completions are dropped, as kube drops them.
func parseIndexes(s string, completions int) indexSet {
	out := indexSet{}
	for _, part := range strings.Split(s, ",") {
		first, last, isRange := strings.Cut(strings.TrimSpace(part), "-")
		lo, err := strconv.Atoi(first)
		if err != nil {
			continue
		}
		hi := lo
		if isRange {
			if hi, err = strconv.Atoi(last); err != nil {
				continue
			}
		}
		for i := max(lo, 0); i <= hi && i < completions; i++ {
			out[i] = struct{}{}
		}
	}
	return out
}

// String is the status form of the set.
func (s indexSet) String() string {
	idx := make([]int, 0, len(s))
	for i := range s {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	var parts []string
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && idx[j+1] == idx[j]+1 {
			j++
		}
		if j == i {
			parts = append(parts, strconv.Itoa(idx[i]))
		} else {
			parts = append(parts, strconv.Itoa(idx[i])+"-"+strconv.Itoa(idx[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}
