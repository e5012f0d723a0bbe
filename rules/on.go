package rules

// Events: when a rule looks at a message (the on key).

// compileOn checks sp.On and records the events in r. An empty list means
// ["arrival"]; an unknown event, a repeated one or an empty list written
// out is a problem at its position. scope = "all" only widens arrival
// passes, so a rule on flags alone cannot have it.
func (c *compiler) compileOn(sp *Spec, r *rule) {
	if sp.On == nil {
		r.onArrival = true
		return
	}
	if len(sp.On) == 0 {
		c.problem(sp, locate(sp, "on", 0, 0), `on: empty; want "arrival", "flags" or both`)
		return
	}
	for i, ev := range sp.On {
		pos := locate(sp, "on", i, 0)
		switch Event(ev) {
		case OnArrival:
			if r.onArrival {
				c.problem(sp, pos, "on: %q given twice", ev)
			}
			r.onArrival = true
		case OnFlags:
			if r.onFlags {
				c.problem(sp, pos, "on: %q given twice", ev)
			}
			r.onFlags = true
		default:
			msg := "on: unknown event %q; want \"arrival\" or \"flags\""
			if s := Closest(ev, []string{string(OnArrival), string(OnFlags)}); s != "" {
				msg += "; did you mean \"" + s + "\"?"
			}
			c.problem(sp, pos, msg, ev)
		}
	}
	if r.scopeAll && !r.onArrival {
		c.problem(sp, locate(sp, "scope", 0, 0), `scope = "all" widens arrival passes: a rule with on = ["flags"] alone cannot have it`)
	}
}

// HasFlagRules reports whether some rule has "flags" in on: the mailbox
// then gets flag passes.
func (s *Set) HasFlagRules() bool { return s.hasFlags }

// FlagNeeds returns what must be fetched to evaluate the rules with
// "flags" in on. The Headers slice must not be modified.
func (s *Set) FlagNeeds() Needs { return s.flagNeeds }

// runsFor reports whether r is evaluated for msg: in a flag pass the rules
// on flags; otherwise the rules on arrival, for new messages, or for every
// message with scope "all".
func (r *rule) runsFor(msg *Message) bool {
	if msg.FlagsChanged {
		return r.onFlags
	}
	return r.onArrival && (r.scopeAll || msg.New)
}
