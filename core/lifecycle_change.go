package core

import (
	"fmt"
	"strings"
)

// A lifecycle change (a queue given another lifecycle, or a lifecycle
// replaced by one without some of its statuses) must not strand tickets in
// statuses the new lifecycle lacks: they could go nowhere from there. Such
// a change is refused, naming the statuses and how many tickets each holds,
// unless a status map says where each goes; then every ticket moved gets a
// status change in its history, by the admin who made the change, in the
// change's transaction.

// StatusMap says where the tickets in statuses a new lifecycle lacks go:
// old status -> a status of the new lifecycle.
type StatusMap map[string]string

// ParseStatusMap reads old=new pairs, each given alone or several
// comma-separated, as `--map triage=open,waiting=stalled` gives them.
func ParseStatusMap(specs ...string) (StatusMap, error) {
	m := StatusMap{}
	for _, spec := range specs {
		for _, pair := range strings.Split(spec, ",") {
			if strings.TrimSpace(pair) == "" {
				continue
			}
			from, to, ok := strings.Cut(pair, "=")
			from, to = strings.ToLower(strings.TrimSpace(from)), strings.ToLower(strings.TrimSpace(to))
			if !ok || from == "" || to == "" {
				return nil, Errorf(CodeInvalid, "status map %q: write old=new, such as triage=open", strings.TrimSpace(pair))
			}
			if prev, ok := m[from]; ok && prev != to {
				return nil, Errorf(CodeInvalid, "status map: %s goes to %s or to %s? Say it once", from, prev, to)
			}
			m[from] = to
		}
	}
	return m, nil
}

// StatusMapNeeded is why a lifecycle change was refused: tickets would be
// left in statuses the new lifecycle lacks. It is the cause of the
// CodeConflict error, whose message tells to give a map as the CLI takes
// it (--map); Explain says it for another interface.
type StatusMapNeeded struct {
	Lifecycle string
	// Held says what each queue holds, such as "queue NOC holds 3 tickets
	// in status 'triage' and 1 in 'waiting'".
	Held []string
	// Suggested is a map to start from, "old=new" for each status left
	// unsaid, in the order Held names them.
	Suggested []string
}

func (n *StatusMapNeeded) Error() string { return n.Explain(mapFlag) }

// Explain says what was refused and how to say where each status goes,
// how being the way an interface takes a map, given suggested pairs.
func (n *StatusMapNeeded) Explain(how func(pairs []string) string) string {
	return fmt.Sprintf("%s, which lifecycle '%s' lacks; say where each goes with %s",
		strings.Join(n.Held, "; "), n.Lifecycle, how(n.Suggested))
}

func mapFlag(pairs []string) string { return "--map " + strings.Join(pairs, ",") }
