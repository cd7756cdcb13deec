package printers

import (
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
)

// Placeholders kubectl users know from a real cluster.
const (
	none    = "<none>"
	unknown = "<unknown>"
	unset   = "<unset>"
)

// maxListed is how many items a list cell shows before " + N more...".
const maxListed = 3

// column is a plain string column.
func column(name, description string) metav1.TableColumnDefinition {
	return metav1.TableColumnDefinition{Name: name, Type: "string", Description: description}
}

// wide marks a column shown only by -o wide.
func wide(c metav1.TableColumnDefinition) metav1.TableColumnDefinition {
	c.Priority = 1
	return c
}

// nameColumn is the NAME column every printer starts with.
func nameColumn() metav1.TableColumnDefinition {
	c := column("Name", metaDoc("name"))
	c.Format = "name"
	return c
}

// ageColumn is the AGE column, measured from creationTimestamp.
func ageColumn() metav1.TableColumnDefinition {
	return column("Age", metaDoc("creationTimestamp"))
}

func metaDoc(field string) string {
	return metav1.ObjectMeta{}.SwaggerDoc()[field]
}

// age is how long before now t was, as kubectl prints it ("5s", "2m3s",
// "3h4m", "2d3h", "400d"); "<unknown>" for a zero time.
func age(t metav1.Time, now time.Time) string {
	if t.IsZero() {
		return unknown
	}
	return duration.HumanDuration(now.Sub(t.Time))
}

func microAge(t metav1.MicroTime, now time.Time) string {
	if t.IsZero() {
		return unknown
	}
	return duration.HumanDuration(now.Sub(t.Time))
}

// listWithMore joins the first maxListed of items with "," and says how
// many were left out; "<unset>" when there are none.
func listWithMore(items []string) string {
	if len(items) == 0 {
		return unset
	}
	if len(items) <= maxListed {
		return strings.Join(items, ",")
	}
	return fmt.Sprintf("%s + %d more...", strings.Join(items[:maxListed], ","), len(items)-maxListed)
}

// orNone returns s, or "<none>" when s is empty.
func orNone(s string) string {
	return orDefault(s, none)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
