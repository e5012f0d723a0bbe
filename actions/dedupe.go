package actions

import (
	"bytes"
	"context"
	"fmt"
	"strconv"

	"go.uber.org/zap"

	"github.com/mailrules/mailrules/imap"
)

// copyKeyItems are the FETCH items that identify a message across a copy:
// COPY keeps the message's octets and its INTERNALDATE (RFC 3501 section
// 6.4.7), so the Message-ID and the size, or the size and the date for a
// message without Message-ID, are the same in the destination.
var copyKeyItems = []imap.FetchItem{imap.FetchUID, imap.FetchRFC822Size, imap.FetchInternalDate, imap.FetchHeaderFields("MESSAGE-ID")}

// copyKey is how a message is recognised in the destination.
func copyKey(m *imap.FetchMessage) string {
	id := bytes.TrimSpace(m.Section("HEADER.FIELDS (MESSAGE-ID)"))
	if i := bytes.IndexByte(id, ':'); i >= 0 {
		id = bytes.TrimSpace(id[i+1:])
	}
	size := strconv.FormatInt(m.Size, 10)
	if len(id) > 0 {
		return "id " + string(id) + " " + size
	}
	return "date " + strconv.FormatInt(m.InternalDate.Unix(), 10) + " " + size
}

// dedupe splits uids, about to be copied or moved into dest, into those to copy and
// those dest already holds, for the messages Options.Dedupe says an earlier
// pass may have copied there. It looks with STATUS first and only selects
// dest (EXAMINE, read-only) when dest has messages from the given UID on,
// then selects the source again.
func (ex *executor) dedupe(ctx context.Context, dest string, uids imap.SeqSet, move bool) (toCopy, present imap.SeqSet, err error) {
	insp, ok := ex.mb.(Inspector)
	if ex.opts.Dedupe == nil || !ok {
		return uids, nil, nil
	}
	maybe, mark := ex.opts.Dedupe(dest, move)
	cand := intersect(uids, maybe)
	if len(cand) == 0 {
		return uids, nil, nil
	}
	from := max(mark.UIDNext, 1)
	ex.command()
	st, err := insp.Status(ctx, dest, imap.StatusUIDNext, imap.StatusMessages, imap.StatusUIDValidity)
	if err != nil {
		if refused(err) {
			return uids, nil, nil // no such mailbox yet: nothing to compare
		}
		return nil, nil, fmt.Errorf("look into %q before copying: %w", dest, err)
	}
	if ex.looked == nil {
		ex.looked = make(map[string]DestMark)
	}
	ex.looked[mailboxKey(dest)] = statusMark(st) // copyStart needs no STATUS of its own
	if mark.UIDValidity != 0 && st.UIDValidity != nil && *st.UIDValidity != mark.UIDValidity {
		from = 1 // renumbered since: the mark says nothing any more
	}
	if (st.Messages != nil && *st.Messages == 0) || (st.UIDNext != nil && *st.UIDNext <= from) {
		return uids, nil, nil
	}
	// The keys of the candidates, from the source.
	want := make(map[uint32]string)
	for _, set := range cand.Chunks(0) {
		ex.command()
		err := insp.UIDFetch(ctx, set, copyKeyItems, func(m *imap.FetchMessage) error {
			if set.Contains(m.UID) {
				want[m.UID] = copyKey(m)
			}
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("fetch the Message-IDs of messages to copy to %q: %w", dest, err)
		}
	}
	// What dest holds from the UID on, counted, for messages that were
	// in the source more than once.
	have := make(map[string]int)
	haveUIDs := make(map[string][]uint32) // the same, with their UIDs in dest
	ex.command()
	destStatus, err := insp.Examine(ctx, dest)
	if err == nil {
		ex.command()
		err = insp.UIDFetch(ctx, imap.SeqSet{{Start: from, Stop: 0}}, copyKeyItems, func(m *imap.FetchMessage) error {
			if m.UID >= from {
				k := copyKey(m)
				have[k]++
				haveUIDs[k] = append(haveUIDs[k], m.UID)
			}
			return nil
		})
	}
	ex.command()
	back, serr := insp.Select(ctx, ex.plan.Mailbox, nil)
	if serr != nil {
		return nil, nil, fmt.Errorf("select %q again after looking into %q: %w", ex.plan.Mailbox, dest, serr)
	}
	if ex.opts.UIDValidity != 0 && back.UIDValidity != ex.opts.UIDValidity {
		return nil, nil, fmt.Errorf("select %q again: UIDVALIDITY changed from %d to %d", ex.plan.Mailbox, ex.opts.UIDValidity, back.UIDValidity)
	}
	if err != nil {
		if !refused(err) {
			return nil, nil, fmt.Errorf("look into %q before copying: %w", dest, err)
		}
		ex.log.Warn("could not look into the destination; copying without checking for earlier copies", zap.String("destination", dest), zap.Error(err))
		return uids, nil, nil
	}
	var in, there []uint32
	for uid := range cand.All() {
		if k, ok := want[uid]; ok && have[k] > 0 {
			have[k]--
			in = append(in, uid)
			there = append(there, haveUIDs[k][0])
			haveUIDs[k] = haveUIDs[k][1:]
		}
	}
	present = imap.SeqSetFromNums(in...)
	if len(there) > 0 && destStatus != nil && destStatus.UIDValidity != 0 {
		// Put there by an earlier pass of ours: Report.Placed says so.
		ex.placed(dest, destStatus.UIDValidity, imap.SeqSetFromNums(there...))
	}
	return difference(uids, present), present, nil
}

// copyStart tells Options.OnCopyStart, once per destination, where dest's
// new messages will start: from Options.KnownDests, else from STATUS.
func (ex *executor) copyStart(ctx context.Context, dest string) error {
	key := mailboxKey(dest)
	if ex.started[key] {
		return nil
	}
	mark, known := ex.opts.KnownDests[dest]
	if !known {
		mark, known = ex.looked[key]
	}
	if !known {
		mark = DestMark{UIDNext: 1}
	}
	if insp, ok := ex.mb.(Inspector); ok && !known {
		ex.command()
		st, err := insp.Status(ctx, dest, imap.StatusUIDNext, imap.StatusUIDValidity)
		switch {
		case err == nil:
			mark = statusMark(st)
		case !refused(err):
			return fmt.Errorf("look into %q before copying: %w", dest, err)
		}
	}
	if err := ex.opts.OnCopyStart(dest, mark); err != nil {
		return err
	}
	if ex.started == nil {
		ex.started = make(map[string]bool)
	}
	ex.started[key] = true
	return nil
}

// statusMark is where STATUS says a destination stands (UIDNEXT 1 when the
// server does not say).
func statusMark(st *imap.StatusData) DestMark {
	mark := DestMark{UIDNext: 1}
	if st.UIDNext != nil {
		mark.UIDNext = *st.UIDNext
	}
	if st.UIDValidity != nil {
		mark.UIDValidity = *st.UIDValidity
	}
	return mark
}
