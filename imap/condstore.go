package imap

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/mailrules/mailrules/imap/internal/imapwire"
)

// CONDSTORE and QRESYNC (RFC 7162): mod-sequences, fetching what changed
// since one, and resynchronising a mailbox after a reconnect.
//
// The server gives every change of a message's flags (and every new
// message) a mod-sequence, higher than all before it in that mailbox; the
// mailbox's HIGHESTMODSEQ is the highest one (MailboxStatus.HighestModSeq,
// from SELECT or STATUS). A client that remembers it asks later only for
// what changed since: UIDFetchWith with ChangedSince. A SELECT with
// SelectOptions.CondStore (or ENABLE CONDSTORE, or any command with a
// CONDSTORE parameter) makes the server add MODSEQ to every FETCH response
// (section 3.1.4).

// EnableCondStore sends ENABLE CONDSTORE (RFC 7162 section 3.1): the server
// then reports MODSEQ in every FETCH response and HIGHESTMODSEQ on SELECT,
// without a CONDSTORE parameter on each SELECT.
func (c *Client) EnableCondStore(ctx context.Context) error {
	return c.enableOne(ctx, CapCondStore)
}

// EnableQResync sends ENABLE QRESYNC (RFC 7162 section 3.2.3), which
// implies CONDSTORE. From then on the server reports expunged messages as
// VANISHED with UIDs (UpdateVanished) instead of EXPUNGE with sequence
// numbers, and Select accepts SelectOptions.QResync.
func (c *Client) EnableQResync(ctx context.Context) error {
	return c.enableOne(ctx, CapQResync)
}

func (c *Client) enableOne(ctx context.Context, cp Cap) error {
	if !c.Has(cp) {
		return notSupported("enable "+strings.ToLower(string(cp)), cp)
	}
	if c.Enabled(cp) {
		return nil
	}
	enabled, err := c.Enable(ctx, cp)
	if err != nil {
		return err
	}
	for _, e := range enabled {
		if e == cp {
			return nil
		}
	}
	return fmt.Errorf("enable %s: the server did not enable it", cp)
}

// QResyncState is what a client remembers of a mailbox to resynchronise it
// with SELECT (QRESYNC ...) (RFC 7162 section 3.2.5).
type QResyncState struct {
	UIDValidity uint32
	ModSeq      uint64 // the HIGHESTMODSEQ last seen
	// KnownUIDs, optional, are the UIDs the client knows of: the server
	// reports as vanished only those of them that are gone. Empty means
	// every UID up to the highest.
	KnownUIDs SeqSet
}

// param renders " (QRESYNC (uidvalidity modseq [known-uids]))".
func (q *QResyncState) param() string {
	var sb strings.Builder
	sb.WriteString(" (QRESYNC (")
	sb.WriteString(strconv.FormatUint(uint64(q.UIDValidity), 10))
	sb.WriteByte(' ')
	sb.WriteString(strconv.FormatUint(q.ModSeq, 10))
	if len(q.KnownUIDs) > 0 {
		sb.WriteByte(' ')
		sb.WriteString(q.KnownUIDs.String())
	}
	sb.WriteString("))")
	return sb.String()
}

// FetchOptions modify FetchWith and UIDFetchWith. A nil *FetchOptions is
// the zero value: a plain FETCH.
type FetchOptions struct {
	// ChangedSince, if not 0, adds the CHANGEDSINCE modifier (RFC 7162
	// section 3.1.4.1): only messages whose mod-sequence is higher are
	// returned, each with its MODSEQ.
	ChangedSince uint64
	// Vanished adds the VANISHED modifier (section 3.2.6) to a UID FETCH
	// with ChangedSince: the UIDs of the set expunged since then are
	// returned too. It needs QRESYNC enabled.
	Vanished bool
}

// modifiers renders the fetch modifiers, with a leading space.
func (o *FetchOptions) modifiers() string {
	if o == nil || o.ChangedSince == 0 {
		return ""
	}
	s := " (CHANGEDSINCE " + strconv.FormatUint(o.ChangedSince, 10)
	if o.Vanished {
		s += " VANISHED"
	}
	return s + ")"
}

// FetchWith sends FETCH with options (see FetchOptions) and calls fn as
// Fetch does.
func (c *Client) FetchWith(ctx context.Context, set SeqSet, items []FetchItem, opts *FetchOptions, fn func(*FetchMessage) error) error {
	if opts != nil && opts.Vanished {
		return fmt.Errorf("fetch: the VANISHED modifier needs UID FETCH (RFC 7162 section 3.2.6)")
	}
	if err := c.checkChangedSince(opts); err != nil {
		return err
	}
	return c.fetch(ctx, &command{name: "FETCH", fetch: fn}, set, items, opts.modifiers())
}

// UIDFetchWith sends UID FETCH with options (see FetchOptions) and calls fn
// as UIDFetch does. With opts.Vanished it returns the UIDs of set that
// were expunged since opts.ChangedSince (VANISHED (EARLIER), RFC 7162
// section 3.2.10).
func (c *Client) UIDFetchWith(ctx context.Context, set SeqSet, items []FetchItem, opts *FetchOptions, fn func(*FetchMessage) error) (vanished SeqSet, err error) {
	if err := c.checkChangedSince(opts); err != nil {
		return nil, err
	}
	cmd := &command{name: "UID FETCH", fetch: fn}
	if opts != nil && opts.Vanished {
		if opts.ChangedSince == 0 {
			return nil, fmt.Errorf("uid fetch: the VANISHED modifier needs CHANGEDSINCE (RFC 7162 section 3.2.6)")
		}
		if !c.Enabled(CapQResync) {
			return nil, fmt.Errorf("uid fetch: the VANISHED modifier needs QRESYNC enabled (RFC 7162 section 3.2.6)")
		}
		cmd.on = handlers{"VANISHED": c.collectVanished(&vanished, true)}
	}
	err = c.fetch(ctx, cmd, set, items, opts.modifiers())
	return vanished, err
}

func (c *Client) checkChangedSince(opts *FetchOptions) error {
	if opts != nil && opts.ChangedSince != 0 && !c.Has(CapCondStore) && !c.Has(CapQResync) {
		return notSupported("fetch changedsince", CapCondStore)
	}
	return nil
}

// ModSeqSince returns search criteria matching the messages whose
// mod-sequence is at least modseq (the MODSEQ search key, RFC 7162 section
// 3.1.5). The server then also reports the highest mod-sequence of the
// messages found (SearchData.ModSeq).
func ModSeqSince(modseq uint64) SearchCriteria {
	return SearchCriteria{Raw: "MODSEQ " + strconv.FormatUint(modseq, 10)}
}

// UIDStoreUnchangedSince sends UID STORE (UNCHANGEDSINCE modseq) (RFC 7162
// section 3.1.3): the flags of the messages of uids whose mod-sequence is
// still at most modseq are changed; modified returns the others (the
// MODIFIED response code), which another client changed meanwhile and
// which were left alone.
func (c *Client) UIDStoreUnchangedSince(ctx context.Context, uids SeqSet, modseq uint64, op StoreOp, silent bool, flags []string) (modified SeqSet, err error) {
	if op < StoreAdd || op > StoreReplace {
		return nil, fmt.Errorf("uid store: invalid operation %d", op)
	}
	if len(uids) == 0 {
		return nil, nil
	}
	if !c.Has(CapCondStore) && !c.Has(CapQResync) {
		return nil, notSupported("uid store unchangedsince", CapCondStore)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.requireWritable("uid store"); err != nil {
		return nil, err
	}
	cmd := &command{name: "UID STORE"}
	st, err := c.run(ctx, cmd, func(b *builder) error {
		b.atom("UID STORE ")
		b.raw(uids.String())
		b.raw(" (UNCHANGEDSINCE ")
		b.number64(modseq)
		b.raw(") ")
		b.atom(op.item(silent))
		b.sp()
		return b.flagList(flags)
	})
	if st != nil && st.code == "MODIFIED" {
		set, perr := ParseSeqSet(st.codeArgs)
		if perr != nil {
			return nil, fmt.Errorf("uid store: MODIFIED %q: %w", st.codeArgs, perr)
		}
		modified = set
	}
	return modified, err
}

// VanishedData is one VANISHED response (RFC 7162 section 3.2.10).
type VanishedData struct {
	// Earlier is set for VANISHED (EARLIER): the answer to a QRESYNC
	// SELECT or a UID FETCH with VANISHED, about expunges the client did
	// not see; the message count does not change.
	Earlier bool
	UIDs    SeqSet
}

// readVanished parses the rest of a VANISHED response after its name:
// SP ["(EARLIER)" SP] known-uids.
func readVanished(d *imapwire.Decoder) (*VanishedData, error) {
	if err := d.SP(); err != nil {
		return nil, err
	}
	v := &VanishedData{}
	if d.Accept('(') {
		tag, err := d.Atom()
		if err != nil {
			return nil, err
		}
		if !strings.EqualFold(string(tag), "EARLIER") {
			return nil, &imapwire.SyntaxError{Msg: "VANISHED: unknown tag " + string(tag)}
		}
		if !d.Accept(')') {
			return nil, &imapwire.SyntaxError{Msg: "VANISHED: missing ) after EARLIER"}
		}
		if err := d.SP(); err != nil {
			return nil, err
		}
		v.Earlier = true
	}
	raw, err := d.Atom()
	if err != nil {
		return nil, err
	}
	set, err := ParseSeqSet(string(raw))
	if err != nil {
		return nil, &imapwire.SyntaxError{Msg: "VANISHED: " + err.Error()}
	}
	v.UIDs = set
	return v, d.CRLF()
}

// collectVanished returns a handler that adds the UIDs of VANISHED
// (EARLIER) responses to *into; a VANISHED without EARLIER arriving
// meanwhile is a real expunge, applied and delivered as by onVanished.
func (c *Client) collectVanished(into *SeqSet, earlierOnly bool) handler {
	return func(d *imapwire.Decoder, _ uint32) error {
		v, err := readVanished(d)
		if err != nil {
			return err
		}
		if v.Earlier || !earlierOnly {
			*into = append(*into, v.UIDs...)
			return nil
		}
		c.onVanished(v)
		return nil
	}
}

// onVanished applies a VANISHED response to the selected mailbox: without
// EARLIER each UID was a message the client knew, so the count drops by
// their number (RFC 7162 section 3.2.10); it is delivered as
// UpdateVanished either way.
func (c *Client) onVanished(v *VanishedData) {
	if !v.Earlier {
		n := uint32(v.UIDs.Count())
		c.smu.Lock()
		if c.mailbox != nil {
			c.mailbox.Exists -= min(c.mailbox.Exists, n)
		}
		c.smu.Unlock()
	}
	c.deliver(Update{Kind: UpdateVanished, Vanished: v})
}
