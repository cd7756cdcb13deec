package iptables

import (
	"errors"
	"strings"
)

var errQuote = errors.New("unterminated quote")

// splitLine splits one restore or save line into words as iptables-restore
// does: spaces separate words, double quotes group them (\" escapes one).
func splitLine(line string) ([]string, error) {
	var words []string
	var w strings.Builder
	in, started := false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\\' && in && i+1 < len(line) && line[i+1] == '"':
			w.WriteByte('"')
			i++
		case c == '"':
			in, started = !in, true
		case (c == ' ' || c == '\t') && !in:
			if started {
				words = append(words, w.String())
				w.Reset()
				started = false
			}
		default:
			w.WriteByte(c)
			started = true
		}
	}
	if in {
		return nil, errQuote
	}
	if started {
		words = append(words, w.String())
	}
	return words, nil
}

// joinWords is the canonical text of words: quoted where needed, and a
// comment always (as iptables-save prints it).
func joinWords(words []string) string {
	var b strings.Builder
	for i, w := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		if w == "" || strings.ContainsAny(w, " \t\"") || i > 0 && words[i-1] == "--comment" {
			b.WriteByte('"')
			b.WriteString(strings.ReplaceAll(w, `"`, `\"`))
			b.WriteByte('"')
			continue
		}
		b.WriteString(w)
	}
	return b.String()
}

// ruleTarget returns a rule's -j/-g target and whether it is a goto.
func ruleTarget(words []string) (target string, isGoto bool) {
	for i := 0; i+1 < len(words); i++ {
		switch words[i] {
		case "-j", "--jump":
			return words[i+1], false
		case "-g", "--goto":
			return words[i+1], true
		}
	}
	return "", false
}
