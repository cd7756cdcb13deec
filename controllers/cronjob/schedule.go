package cronjob

import (
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // timeZone works on a host without a zoneinfo database

	"github.com/robfig/cron/v3"
	batchv1 "k8s.io/api/batch/v1"
)

// tooManyMissed is the number of missed start times above which kube
// warns (and still starts the most recent one).
const tooManyMissed = 100

// schedule is a cronjob's parsed schedule in its time zone.
type schedule struct {
	cron cron.Schedule
	loc  *time.Location
}

// parseSchedule reads spec.schedule (standard five fields or a descriptor
// like @hourly; a TZ= prefix is refused, as kube refuses it for timeZone)
// and spec.timeZone (the controller's local zone when unset, as kube).
func parseSchedule(cj *batchv1.CronJob) (schedule, error) {
	spec := strings.TrimSpace(cj.Spec.Schedule)
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		return schedule{}, fmt.Errorf("unsupported schedule %q: use spec.timeZone instead of TZ in the schedule", spec)
	}
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		return schedule{}, fmt.Errorf("unparseable schedule %q: %w", spec, err)
	}
	loc := time.Local
	if tz := cj.Spec.TimeZone; tz != nil {
		if loc, err = time.LoadLocation(*tz); err != nil {
			return schedule{}, fmt.Errorf("invalid timeZone %q: %w", *tz, err)
		}
	}
	return schedule{cron: sched, loc: loc}, nil
}

// next is the first start time after t (zero when there is none within
// five years).
func (s schedule) next(t time.Time) time.Time { return s.cron.Next(t.In(s.loc)) }

// mostRecent is the latest start time in (earliest, now], if any, and
// whether more than tooManyMissed were missed since earliest.
func (s schedule) mostRecent(earliest, now time.Time) (time.Time, bool, bool) {
	t1 := s.next(earliest)
	if t1.IsZero() || t1.After(now) {
		return time.Time{}, false, false
	}
	missed, t := 1, t1
	for missed <= tooManyMissed {
		n := s.next(t)
		if n.IsZero() || n.After(now) {
			return t, true, false
		}
		missed, t = missed+1, n
	}
	return s.latestBefore(t, now), true, true
}

// latestBefore finds the latest start time <= now, given one (from) that
// is: it looks back from now over a window doubling from a minute until
// the window holds a start time, then steps forward.
func (s schedule) latestBefore(from, now time.Time) time.Time {
	for w := time.Minute; ; w *= 2 {
		start := now.Add(-w)
		if !start.After(from) {
			start = from
		}
		t := s.next(start)
		if start.Equal(from) {
			t = from
		}
		if t.IsZero() || t.After(now) {
			continue
		}
		for {
			n := s.next(t)
			if n.IsZero() || n.After(now) {
				return t
			}
			t = n
		}
	}
}
