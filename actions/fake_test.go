package actions

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/mailrules/mailrules/imap"
)

// fakeServer is a recording Mailbox that models a server's mailboxes, so
// that tests can check both the commands sent and that no message is lost.
type fakeServer struct {
	caps     map[imap.Cap]bool
	selected string
	delim    string
	boxes    map[string]*fakeBox
	// special maps mailbox names to a SPECIAL-USE attribute (RFC 6154).
	special map[string]string
	// unlisted names exist on the server but LIST omits them;
	// listedMissing names LIST reports though they do not exist (a stale
	// view, to provoke TRYCREATE).
	listedMissing []string
	// createNeedsParent makes CREATE fail when the parent is missing, as
	// a server that does not create superiors itself would.
	createNeedsParent bool
	// fail, when set, is asked before each command; a non-nil error is
	// returned instead of running it.
	fail func(cmd string) error

	cmds       []string
	maxLine    int
	subscribed []string
}

type fakeBox struct {
	nextUID uint32
	msgs    map[uint32]*fakeMsg
}

type fakeMsg struct {
	id    string
	flags map[string]bool
}

// newFakeServer returns a server with INBOX holding messages with UIDs
// 1..n, whose Message-IDs are <n@test>, selected.
func newFakeServer(n int, caps ...imap.Cap) *fakeServer {
	s := &fakeServer{
		caps:     make(map[imap.Cap]bool),
		selected: "INBOX",
		delim:    ".",
		boxes:    make(map[string]*fakeBox),
		special:  make(map[string]string),
	}
	for _, c := range caps {
		s.caps[c] = true
	}
	inbox := s.addBox("INBOX")
	for i := 1; i <= n; i++ {
		inbox.msgs[uint32(i)] = &fakeMsg{id: fmt.Sprintf("<%d@test>", i), flags: make(map[string]bool)}
	}
	inbox.nextUID = uint32(n) + 1
	return s
}

func (s *fakeServer) addBox(name string) *fakeBox {
	b := &fakeBox{nextUID: 1, msgs: make(map[uint32]*fakeMsg)}
	s.boxes[name] = b
	return b
}

func (s *fakeServer) record(cmd string) error {
	s.cmds = append(s.cmds, cmd)
	// "A0001 " tag plus the command plus CRLF.
	if l := len("A0001 ") + len(cmd) + 2; l > s.maxLine {
		s.maxLine = l
	}
	if s.fail != nil {
		return s.fail(cmd)
	}
	return nil
}

func no(cmd, code, text string) error {
	return &imap.Error{Status: "NO", Code: code, Text: text, Command: cmd}
}

func (s *fakeServer) src() *fakeBox { return s.boxes[s.selected] }

func (s *fakeServer) Has(c imap.Cap) bool { return s.caps[c] }

func (s *fakeServer) UIDStore(ctx context.Context, uids imap.SeqSet, op imap.StoreOp, silent bool, flags []string) error {
	sign := map[imap.StoreOp]string{imap.StoreAdd: "+", imap.StoreRemove: "-", imap.StoreReplace: ""}[op]
	item := sign + "FLAGS"
	if silent {
		item += ".SILENT"
	}
	if err := s.record(fmt.Sprintf("UID STORE %s %s (%s)", uids, item, strings.Join(flags, " "))); err != nil {
		return err
	}
	in := inSet(uids)
	for uid, m := range s.src().msgs {
		if !in[uid] {
			continue
		}
		if op == imap.StoreReplace {
			m.flags = make(map[string]bool)
		}
		for _, f := range flags {
			m.flags[f] = op != imap.StoreRemove
			if op == imap.StoreRemove {
				delete(m.flags, f)
			}
		}
	}
	return nil
}

func (s *fakeServer) copyTo(uids imap.SeqSet, dest string) (*fakeBox, []uint32, error) {
	d := s.boxes[dest]
	if d == nil {
		return nil, nil, no("COPY", "TRYCREATE", "Mailbox doesn't exist: "+dest)
	}
	var moved []uint32
	in := inSet(uids)
	for _, uid := range s.uids(s.selected) {
		if !in[uid] {
			continue
		}
		m := s.src().msgs[uid]
		flags := make(map[string]bool)
		for f := range m.flags {
			flags[f] = true
		}
		d.msgs[d.nextUID] = &fakeMsg{id: m.id, flags: flags}
		d.nextUID++
		moved = append(moved, uid)
	}
	return d, moved, nil
}

func (s *fakeServer) UIDCopy(ctx context.Context, uids imap.SeqSet, dest string) (*imap.CopyData, error) {
	if err := s.record(fmt.Sprintf("UID COPY %s %s", uids, dest)); err != nil {
		return nil, err
	}
	_, _, err := s.copyTo(uids, dest)
	return nil, err
}

func (s *fakeServer) UIDMove(ctx context.Context, uids imap.SeqSet, dest string) (*imap.CopyData, error) {
	if !s.caps[imap.CapMove] {
		return nil, fmt.Errorf("UID MOVE: %w", imap.ErrNotSupported)
	}
	if err := s.record(fmt.Sprintf("UID MOVE %s %s", uids, dest)); err != nil {
		return nil, err
	}
	_, moved, err := s.copyTo(uids, dest)
	for _, uid := range moved {
		delete(s.src().msgs, uid)
	}
	return nil, err
}

func (s *fakeServer) UIDExpunge(ctx context.Context, uids imap.SeqSet) ([]uint32, error) {
	if !s.caps[imap.CapUIDPlus] {
		return nil, fmt.Errorf("UID EXPUNGE: %w", imap.ErrNotSupported)
	}
	if err := s.record(fmt.Sprintf("UID EXPUNGE %s", uids)); err != nil {
		return nil, err
	}
	return s.expunge(uids), nil
}

func (s *fakeServer) Expunge(ctx context.Context) ([]uint32, error) {
	if err := s.record("EXPUNGE"); err != nil {
		return nil, err
	}
	return s.expunge(nil), nil
}

func (s *fakeServer) expunge(uids imap.SeqSet) []uint32 {
	var gone []uint32
	in := inSet(uids)
	for uid, m := range s.src().msgs {
		if m.flags[imap.FlagDeleted] && (uids == nil || in[uid]) {
			delete(s.src().msgs, uid)
			gone = append(gone, uid)
		}
	}
	return gone
}

func (s *fakeServer) Create(ctx context.Context, name string) error {
	if err := s.record("CREATE " + name); err != nil {
		return err
	}
	if s.boxes[name] != nil {
		return no("CREATE", "ALREADYEXISTS", "Mailbox already exists")
	}
	if s.createNeedsParent {
		if ps := parents(name, s.delim); len(ps) > 0 && s.boxes[ps[len(ps)-1]] == nil {
			return no("CREATE", "", "Parent mailbox doesn't exist")
		}
	}
	s.addBox(name)
	return nil
}

func (s *fakeServer) List(ctx context.Context, ref, pattern string) ([]*imap.ListData, error) {
	if err := s.record(fmt.Sprintf("LIST %q %q", ref, pattern)); err != nil {
		return nil, err
	}
	var out []*imap.ListData
	for _, name := range append(s.names(), s.listedMissing...) {
		l := &imap.ListData{Delim: s.delim, Name: name}
		if a := s.special[name]; a != "" {
			l.Attrs = append(l.Attrs, a)
		}
		out = append(out, l)
	}
	return out, nil
}

func (s *fakeServer) names() []string {
	var names []string
	for n := range s.boxes {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (s *fakeServer) uids(box string) []uint32 {
	var uids []uint32
	for uid := range s.boxes[box].msgs {
		uids = append(uids, uid)
	}
	slices.Sort(uids)
	return uids
}

// ids returns the Message-IDs in a mailbox, sorted, with " (deleted)" after
// those marked \Deleted.
func (s *fakeServer) ids(box string) []string {
	b := s.boxes[box]
	if b == nil {
		return nil
	}
	var ids []string
	for _, m := range b.msgs {
		id := m.id
		if m.flags[imap.FlagDeleted] {
			id += " (deleted)"
		}
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// where maps every Message-ID to the mailboxes holding it.
func (s *fakeServer) where() map[string][]string {
	w := make(map[string][]string)
	for _, name := range s.names() {
		for _, m := range s.boxes[name].msgs {
			w[m.id] = append(w[m.id], name)
		}
	}
	return w
}

// subscriber adds SUBSCRIBE to the fake.
type subscriber struct{ *fakeServer }

func (s subscriber) Subscribe(ctx context.Context, name string) error {
	if err := s.record("SUBSCRIBE " + name); err != nil {
		return err
	}
	s.subscribed = append(s.subscribed, name)
	return nil
}

// inSet expands a UID set into a lookup table.
func inSet(uids imap.SeqSet) map[uint32]bool {
	in := make(map[uint32]bool)
	for _, uid := range uids.Nums() {
		in[uid] = true
	}
	return in
}
