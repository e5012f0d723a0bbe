package actions

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/mailrules/mailrules/imap"
)

// inspecting adds the Inspector methods to the fake server. Messages in
// expungedElsewhere were expunged by another client: until a NOOP tells
// this session, a command naming them is refused with EXPUNGEISSUED (RFC
// 5530), as Dovecot does, and nothing of the command is carried out.
type inspecting struct {
	*fakeServer
	expungedElsewhere map[uint32]bool
}

func newInspecting(n int, caps ...imap.Cap) *inspecting {
	return &inspecting{fakeServer: newFakeServer(n, caps...), expungedElsewhere: map[uint32]bool{}}
}

// expungeElsewhere removes messages of INBOX as another client would.
func (s *inspecting) expungeElsewhere(uids ...uint32) {
	for _, uid := range uids {
		delete(s.boxes["INBOX"].msgs, uid)
		s.expungedElsewhere[uid] = true
	}
	prev := s.fail
	s.fail = func(cmd string) error {
		if prev != nil {
			if err := prev(cmd); err != nil {
				return err
			}
		}
		f := strings.Fields(cmd)
		if len(f) >= 3 && f[0] == "UID" && (f[1] == "MOVE" || f[1] == "COPY" || f[1] == "STORE") {
			set, _ := imap.ParseSeqSet(f[2])
			for uid := range s.expungedElsewhere {
				if set.Contains(uid) {
					return no("UID "+f[1], "EXPUNGEISSUED", "Some of the requested messages no longer exist")
				}
			}
		}
		return nil
	}
}

func (s *inspecting) Noop(ctx context.Context) error {
	if err := s.record("NOOP"); err != nil {
		return err
	}
	s.expungedElsewhere = map[uint32]bool{}
	return nil
}

func (s *inspecting) UIDSearch(ctx context.Context, c *imap.SearchCriteria) ([]uint32, error) {
	if err := s.record("UID SEARCH UID " + c.UID.String()); err != nil {
		return nil, err
	}
	var out []uint32
	for _, uid := range s.uids(s.selected) {
		if c.UID.Contains(uid) {
			out = append(out, uid)
		}
	}
	return out, nil
}

func (s *inspecting) Status(ctx context.Context, name string, items ...imap.StatusItem) (*imap.StatusData, error) {
	if err := s.record("STATUS " + name); err != nil {
		return nil, err
	}
	b := s.boxes[name]
	if b == nil {
		return nil, no("STATUS", "NONEXISTENT", "Mailbox doesn't exist")
	}
	n, next := uint32(len(b.msgs)), b.nextUID
	return &imap.StatusData{Mailbox: name, Messages: &n, UIDNext: &next}, nil
}

func (s *inspecting) Select(ctx context.Context, name string, opts *imap.SelectOptions) (*imap.MailboxStatus, error) {
	return s.open("SELECT", name)
}

func (s *inspecting) Examine(ctx context.Context, name string) (*imap.MailboxStatus, error) {
	return s.open("EXAMINE", name)
}

func (s *inspecting) open(verb, name string) (*imap.MailboxStatus, error) {
	if err := s.record(verb + " " + name); err != nil {
		return nil, err
	}
	if s.boxes[name] == nil {
		s.selected = ""
		return nil, no(verb, "NONEXISTENT", "Mailbox doesn't exist")
	}
	s.selected = name
	return &imap.MailboxStatus{Name: name, UIDValidity: 1, Exists: uint32(len(s.boxes[name].msgs))}, nil
}

func (s *inspecting) UIDFetch(ctx context.Context, uids imap.SeqSet, items []imap.FetchItem, fn func(*imap.FetchMessage) error) error {
	if err := s.record("UID FETCH " + uids.String()); err != nil {
		return err
	}
	for _, uid := range s.uids(s.selected) {
		if !uids.Contains(uid) {
			continue
		}
		m := s.boxes[s.selected].msgs[uid]
		fm := &imap.FetchMessage{UID: uid, Size: int64(100 + len(m.id)), Sections: []imap.BodySection{
			{Section: "HEADER.FIELDS (MESSAGE-ID)", Origin: -1, Data: []byte("Message-ID: " + m.id + "\r\n\r\n")}}}
		if err := fn(fm); err != nil {
			return err
		}
	}
	return nil
}

// TestExecuteIsolatesBadMessage: the server refuses a move of any set that
// holds one poisoned message. The others are moved; the bad one is failed
// alone, in a number of commands that grows with log2 of the set.
func TestExecuteIsolatesBadMessage(t *testing.T) {
	const n, bad = 1000, 377
	srv := newInspecting(n, imap.CapMove, imap.CapUIDPlus)
	srv.addBox("Archive")
	srv.fail = func(cmd string) error {
		if f := strings.Fields(cmd); len(f) > 2 && f[1] == "MOVE" {
			if set, _ := imap.ParseSeqSet(f[2]); set.Contains(bad) {
				return no("UID MOVE", "", "Internal error occurred")
			}
		}
		return nil
	}
	var uids []uint32
	for i := uint32(1); i <= n; i++ {
		uids = append(uids, i)
	}
	p := NewPlan("INBOX", moveDecisions("Archive", uids...))
	rep, err := p.Execute(context.Background(), srv, nil)
	if err != nil {
		t.Fatalf("Execute() = %v", err)
	}
	if len(rep.Failed) != 1 || rep.Failed[0].UIDs.String() != fmt.Sprint(bad) {
		t.Fatalf("Report.Failed = %+v, want only UID %d", rep.Failed, bad)
	}
	if got := srv.ids("INBOX"); !reflect.DeepEqual(got, []string{fmt.Sprintf("<%d@test>", bad)}) {
		t.Fatalf("INBOX = %q, want only the bad message", got)
	}
	if got := len(srv.boxes["Archive"].msgs); got != n-1 {
		t.Fatalf("Archive holds %d messages, want %d", got, n-1)
	}
	if rep.Commands > 30 {
		t.Fatalf("sent %d commands to isolate one message among %d, want about 2*log2(n): %q", rep.Commands, n, srv.cmds)
	}
	checkNothingLost(t, srv.fakeServer, n, p)
}

// TestExecuteVanished: another client expunged some of the messages after
// the plan was made. The server refuses the command that names them; the
// others are acted on, and the vanished ones reported, not failed.
func TestExecuteVanished(t *testing.T) {
	for _, caps := range [][]imap.Cap{{imap.CapMove, imap.CapUIDPlus}, {imap.CapUIDPlus}} {
		t.Run(fmt.Sprint(caps), func(t *testing.T) {
			srv := newInspecting(8, caps...)
			p := NewPlan("INBOX", mixedDecisions(8))
			srv.expungeElsewhere(2, 6)
			rep, err := p.Execute(context.Background(), srv, nil)
			if err != nil {
				t.Fatalf("Execute() = %v", err)
			}
			if len(rep.Failed) != 0 {
				t.Fatalf("Report.Failed = %+v, want none", rep.Failed)
			}
			if got := rep.Vanished.String(); got != "2,6" {
				t.Fatalf("Report.Vanished = %s, want 2,6", got)
			}
			want := map[string][]string{"<1@test>": {"Backup", "Lists.go-dev"}, "<3@test>": {"Lists.go-dev"},
				"<4@test>": {"Lists.go-dev"}, "<5@test>": {"Trash"}}
			got := srv.where()
			for id, boxes := range want {
				if !reflect.DeepEqual(got[id], boxes) {
					t.Fatalf("%s is in %q, want %q; commands %q", id, got[id], boxes, srv.cmds)
				}
			}
		})
	}
}

// TestExecuteDedupe: messages that the destination already holds (copied
// or moved there by an earlier pass that was interrupted) are not copied
// again; a move of one is completed by expunging it from the source. The
// source is selected again afterwards.
func TestExecuteDedupe(t *testing.T) {
	for _, caps := range [][]imap.Cap{{imap.CapMove, imap.CapUIDPlus}, {imap.CapUIDPlus}} {
		t.Run(fmt.Sprint(caps), func(t *testing.T) {
			srv := newInspecting(8, caps...)
			backup := srv.addBox("Backup")
			lists := srv.addBox("Lists.go-dev")
			// An older message, below the floor: not a copy of ours.
			backup.msgs[1] = &fakeMsg{id: "<2@test>", flags: map[string]bool{}}
			backup.msgs[5] = &fakeMsg{id: "<1@test>", flags: map[string]bool{}}
			backup.nextUID = 6
			lists.msgs[3] = &fakeMsg{id: "<3@test>", flags: map[string]bool{}}
			lists.nextUID = 4
			var started []string
			p := NewPlan("INBOX", mixedDecisions(8))
			rep, err := p.Execute(context.Background(), srv, &Options{
				UIDValidity: 1,
				Dedupe: func(dest string, move bool) (imap.SeqSet, DestMark) {
					return imap.SeqSet{{Start: 1, Stop: 8}}, DestMark{UIDNext: 2}
				},
				OnCopyStart: func(dest string, mark DestMark) error {
					started = append(started, fmt.Sprintf("%s@%d", dest, mark.UIDNext))
					return nil
				},
			})
			if err != nil {
				t.Fatalf("Execute() = %v", err)
			}
			if srv.selected != "INBOX" {
				t.Fatalf("selected %q after Execute, want INBOX again", srv.selected)
			}
			// <2@test> sits below the floor: it is copied; <1@test> is not.
			if got := srv.ids("Backup"); !reflect.DeepEqual(got, []string{"<1@test>", "<2@test>", "<2@test>"}) {
				t.Fatalf("Backup = %q, want <1@test> once and <2@test> twice", got)
			}
			// <3@test> is in Lists.go-dev from the floor on: a move left
			// half done; it is only expunged from INBOX.
			wantLists := []string{"<1@test>", "<2@test>", "<3@test>", "<4@test>"}
			if got := srv.ids("Lists.go-dev"); !reflect.DeepEqual(got, wantLists) {
				t.Fatalf("Lists.go-dev = %q, want %q", got, wantLists)
			}
			if got := srv.where()["<3@test>"]; !reflect.DeepEqual(got, []string{"Lists.go-dev"}) {
				t.Fatalf("<3@test> is in %q, want only Lists.go-dev", got)
			}
			if rep.AlreadyCopied != 2 {
				t.Fatalf("Report.AlreadyCopied = %d, want 2", rep.AlreadyCopied)
			}
			if len(started) == 0 || started[0] != "Backup@6" {
				t.Fatalf("OnCopyStart calls = %q, want Backup@6 first", started)
			}
			checkNothingLost(t, srv.fakeServer, 8, p)
		})
	}
}
