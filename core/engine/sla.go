package engine

import (
	"fmt"
	"strings"
	"time"

	"github.com/ticketd/ticketd/core"
)

// Service level agreements: a policy per queue (and priority range) sets how
// much business time may pass before the first response and before the
// resolution of a ticket. The clocks run in the business hours of a named
// calendar and stop while the ticket waits (stalled, or in another status
// the policy names: "waiting on the requester"). A warning comes when a
// share of the target has passed, a breach at the deadline; both are
// reminder rows, written in the transaction that sets the deadline, fired
// by the reminder runner, recorded in history (core.TxnSLA) and announced. A
// breach escalates as the policy says.

const (
	DefaultSLAWarnAt   = 80 // percent of the target
	maxSLAEscalChannel = 10
)

// checkSLAPolicy validates a policy (the queue and calendar are checked by
// the engine, which knows them).
func checkSLAPolicy(p *core.SLAPolicy) error {
	if err := core.CheckSLAName("SLA policy", p.Name); err != nil {
		return err
	}
	if p.PriorityMin < 0 || p.PriorityMax > core.MaxPriority || p.PriorityMin > p.PriorityMax {
		return core.Errorf(core.CodeInvalid, "SLA policy %s: priority range %d-%d must lie within 0-%d, low to high",
			p.Name, p.PriorityMin, p.PriorityMax, core.MaxPriority)
	}
	if p.Response <= 0 && p.Resolution <= 0 {
		return core.Errorf(core.CodeInvalid, "SLA policy %s needs a response target, a resolution target, or both", p.Name)
	}
	for what, d := range map[string]time.Duration{"response": p.Response, "resolution": p.Resolution} {
		if d < 0 || d > core.MaxSLATarget {
			return core.Errorf(core.CodeInvalid, "SLA policy %s: %s target must be between 1m and 366d", p.Name, what)
		}
		if d > 0 && d < time.Minute {
			return core.Errorf(core.CodeInvalid, "SLA policy %s: %s target must be at least 1m", p.Name, what)
		}
	}
	if p.Response > 0 && p.Resolution > 0 && p.Resolution < p.Response {
		return core.Errorf(core.CodeInvalid, "SLA policy %s: the resolution target (%s) is shorter than the response target (%s)",
			p.Name, core.FormatBusinessDuration(p.Resolution), core.FormatBusinessDuration(p.Response))
	}
	if p.WarnAt < 0 || p.WarnAt > 99 {
		return core.Errorf(core.CodeInvalid, "SLA policy %s: warn-at must be a percentage of the target from 1 to 99 (0: no warning), not %d",
			p.Name, p.WarnAt)
	}
	if p.Escalation.Priority < 0 || p.Escalation.Priority > core.MaxPriority {
		return core.Errorf(core.CodeInvalid, "SLA policy %s: escalation priority must be between 0 and %d", p.Name, core.MaxPriority)
	}
	if len(p.Escalation.Channels) > maxSLAEscalChannel {
		return core.Errorf(core.CodeInvalid, "SLA policy %s: at most %d escalation channels", p.Name, maxSLAEscalChannel)
	}
	for _, c := range p.Escalation.Channels {
		if _, _, _, err := ParseChannelRef(c); err != nil {
			return core.Errorf(core.CodeInvalid, "SLA policy %s: %v", p.Name, err)
		}
	}
	for i, st := range p.PauseStatuses {
		st = strings.ToLower(strings.TrimSpace(st))
		if st == "" {
			return core.Errorf(core.CodeInvalid, "SLA policy %s: pause status %d is empty", p.Name, i+1)
		}
		p.PauseStatuses[i] = st
	}
	return nil
}

// ParseChannelRef reads "platform:workspace/channel", the way rules and
// SLA policies name a chat channel to notify.
func ParseChannelRef(s string) (platform, workspace, channel string, err error) {
	p, rest, ok := strings.Cut(strings.TrimSpace(s), ":")
	ws, ch, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || p == "" || ws == "" || ch == "" || strings.ContainsAny(s, " \t\n") {
		return "", "", "", fmt.Errorf("channel %q must be written platform:workspace/channel (e.g. slack:T0123/C0456)", s)
	}
	return strings.ToLower(p), ws, ch, nil
}
