package imap

import (
	"strconv"
	"strings"
)

// onCode applies a response code (RFC 3501 section 7.1) to the Client's state.
func (c *Client) onCode(code, args string) {
	switch code {
	case "CAPABILITY":
		caps := CapSet{}
		for _, f := range strings.Fields(args) {
			caps[Cap(strings.ToUpper(f))] = struct{}{}
		}
		c.setCaps(caps)
		return
	}
	if c.cur != nil {
		c.cur.codes = append(c.cur.codes, respCode{code, args})
	}
	c.smu.Lock()
	defer c.smu.Unlock()
	mb := c.mailbox
	if c.cur != nil && c.cur.sel != nil {
		mb = c.cur.sel
	}
	if mb == nil {
		return
	}
	switch code {
	case "UIDVALIDITY":
		if n, err := strconv.ParseUint(args, 10, 32); err == nil {
			mb.UIDValidity = uint32(n)
		}
	case "UIDNEXT":
		if n, err := strconv.ParseUint(args, 10, 32); err == nil {
			mb.UIDNext = uint32(n)
		}
	case "UNSEEN":
		if n, err := strconv.ParseUint(args, 10, 32); err == nil {
			mb.Unseen = uint32(n)
		}
	case "HIGHESTMODSEQ":
		if n, err := strconv.ParseUint(args, 10, 64); err == nil {
			mb.HighestModSeq = n
		}
	case "NOMODSEQ":
		mb.HighestModSeq = 0
	case "PERMANENTFLAGS":
		if flags, err := ParseFlags(args); err == nil {
			mb.PermanentFlags = flags
		}
	case "READ-ONLY":
		mb.ReadOnly = true
	case "READ-WRITE":
		mb.ReadOnly = false
	}
}

func (c *Client) setCaps(caps CapSet) {
	c.smu.Lock()
	c.caps = caps
	c.capsGen++
	c.smu.Unlock()
}

// onStatus handles an untagged OK/NO/BAD/BYE/PREAUTH (RFC 3501 section 7.1).
func (c *Client) onStatus(s *status) {
	switch {
	case s.status == "BYE":
		c.byeText = s.text
		c.deliver(Update{Kind: UpdateBye, Text: s.text, Code: s.code})
	case s.code == "ALERT":
		c.deliver(Update{Kind: UpdateAlert, Text: s.text, Code: s.code})
	case s.status == "OK" && s.code == CodeNotificationOverflow:
		c.notifyOverflow(s)
	case s.status == "OK" && stateCodes[s.code]:
		// mailbox state (SELECT answer, COPYUID of MOVE...): applied or
		// returned by the command in flight
	case s.status == "OK" && c.idle != nil && s.code == "":
		// "* OK Still here" keep-alives during IDLE
	default:
		text := s.status
		if s.code != "" {
			text += " [" + s.code
			if s.codeArgs != "" {
				text += " " + s.codeArgs
			}
			text += "]"
		}
		if s.text != "" {
			text += " " + s.text
		}
		c.deliver(Update{Kind: UpdateOther, Text: text, Code: s.code})
	}
}

// stateCodes are response codes whose data is applied to the Client's
// state or returned by a command, so an untagged OK carrying one is not an
// update by itself.
var stateCodes = map[string]bool{"UIDVALIDITY": true, "UIDNEXT": true, "UNSEEN": true, "HIGHESTMODSEQ": true,
	"NOMODSEQ": true, "PERMANENTFLAGS": true, "READ-ONLY": true, "READ-WRITE": true, "COPYUID": true,
	"APPENDUID": true, "CAPABILITY": true, "CLOSED": true}

// onExists applies an EXISTS response (RFC 3501 section 7.3.1) to the
// selected mailbox and delivers it.
func (c *Client) onExists(n uint32) {
	c.smu.Lock()
	if c.mailbox != nil {
		c.mailbox.Exists = n
	}
	c.smu.Unlock()
	c.deliver(Update{Kind: UpdateExists, Num: n})
}

// onRecent applies a RECENT response (RFC 3501 section 7.3.2) to the
// selected mailbox and delivers it.
func (c *Client) onRecent(n uint32) {
	c.smu.Lock()
	if c.mailbox != nil {
		c.mailbox.Recent = n
	}
	c.smu.Unlock()
	c.deliver(Update{Kind: UpdateRecent, Num: n})
}

// expunged applies an EXPUNGE response (RFC 3501 section 7.4.1) to the
// selected mailbox's message count.
func (c *Client) expunged() {
	c.smu.Lock()
	if c.mailbox != nil && c.mailbox.Exists > 0 {
		c.mailbox.Exists--
	}
	c.smu.Unlock()
}

// onFlags applies a FLAGS response (RFC 3501 section 7.2.6) to the
// selected mailbox.
func (c *Client) onFlags(flags []string) {
	c.smu.Lock()
	defer c.smu.Unlock()
	if c.mailbox != nil {
		c.mailbox.Flags = flags
	}
}

// onEnabled records capabilities the server reports enabled (RFC 5161).
func (c *Client) onEnabled(caps []Cap) {
	c.smu.Lock()
	defer c.smu.Unlock()
	if c.enabled == nil {
		c.enabled = map[Cap]bool{}
	}
	for _, cp := range caps {
		c.enabled[cp] = true
		if cp == CapUTF8Accept {
			c.utf8 = true
		}
	}
}
