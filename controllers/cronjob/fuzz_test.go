package cronjob

import (
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
)

// FuzzMostRecent: for any schedule that parses and any gap, the start time
// found is in (earliest, now] and the one after it is past now.
func FuzzMostRecent(f *testing.F) {
	for _, s := range []string{"*/5 * * * *", "0 9 * * 1-5", "@hourly", "0 0 30 2 *", "@every 1s", "59 23 31 12 *"} {
		f.Add(s, uint32(60*24*3))
	}
	f.Fuzz(func(t *testing.T, spec string, gapMinutes uint32) {
		sched, err := parseSchedule(&batchv1.CronJob{Spec: batchv1.CronJobSpec{Schedule: spec, TimeZone: ptr("UTC")}})
		if err != nil {
			return
		}
		earliest := epoch
		now := earliest.Add(time.Duration(gapMinutes%(60*24*366*3)) * time.Minute)
		got, due, _ := sched.mostRecent(earliest, now)
		if !due {
			if n := sched.next(earliest); !n.IsZero() && !n.After(now) {
				t.Fatalf("%q: no start found, but %v is in (%v, %v]", spec, n, earliest, now)
			}
			return
		}
		if !got.After(earliest) || got.After(now) {
			t.Fatalf("%q: %v not in (%v, %v]", spec, got, earliest, now)
		}
		if n := sched.next(got); !n.IsZero() && !n.After(now) {
			t.Fatalf("%q: %v is not the most recent: %v is too", spec, got, n)
		}
	})
}
