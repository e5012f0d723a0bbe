package imap_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailrules/mailrules/imap"
	"github.com/mailrules/mailrules/imap/sasl"
	"github.com/mailrules/mailrules/test/dovecottest"
)

// parityClient logs a fresh user in over plain loopback TCP.
func parityClient(t *testing.T) (*imap.Client, *dovecottest.User, context.Context) {
	t.Helper()
	dovecottest.Require(t, srv)
	u := srv.NewUser(t)
	c := connect(t, srv, u, "plain", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c, u, ctx
}

func appendMsg(t *testing.T, ctx context.Context, c *imap.Client, mailbox string, date time.Time, msg string) uint32 {
	t.Helper()
	msg = strings.ReplaceAll(msg, "\n", "\r\n")
	ad, err := c.Append(ctx, mailbox, nil, date, strings.NewReader(msg))
	if err != nil {
		t.Fatalf("Append to %q: %v", mailbox, err)
	}
	return ad.UID
}

func TestParityMailboxManagement(t *testing.T) {
	c, u, ctx := parityClient(t)
	names := []string{"Entwürfe", "Entwürfe.日本語", "Ärger & Co", "Project"}
	for _, name := range names {
		if err := c.Create(ctx, name); err != nil {
			t.Fatalf("Create(%q): %v", name, err)
		}
	}
	// On disk, Maildir++ keeps the modified UTF-7 names (RFC 3501 section 5.1.3).
	for _, dir := range []string{".Entw&APw-rfe", ".Entw&APw-rfe.&ZeVnLIqe-", ".&AMQ-rger &- Co"} {
		if _, err := os.Stat(filepath.Join(u.Maildir, dir)); err != nil {
			t.Errorf("Maildir folder %q: %v", dir, err)
		}
	}
	if err := c.Rename(ctx, "Project", "Projekt Größe"); err != nil {
		t.Fatalf("Rename: %v", err)
	}
	if err := c.Subscribe(ctx, "Entwürfe.日本語"); err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	if err := c.Subscribe(ctx, "Projekt Größe"); err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	if err := c.Unsubscribe(ctx, "Projekt Größe"); err != nil {
		t.Fatalf("Unsubscribe: %v", err)
	}
	lsub, err := c.Lsub(ctx, "", "*")
	if err != nil {
		t.Fatalf("Lsub: %v", err)
	}
	var subscribed []string
	for _, l := range lsub {
		subscribed = append(subscribed, l.Name)
	}
	slices.Sort(subscribed)
	if want := []string{"Entwürfe.日本語", "Trash"}; !reflect.DeepEqual(subscribed, want) {
		t.Errorf("Lsub(\"\", \"*\") = %v, want %v", subscribed, want)
	}
	list, err := c.List(ctx, "", "Entwürfe*")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	var listed []string
	for _, l := range list {
		listed = append(listed, l.Name)
	}
	slices.Sort(listed)
	if want := []string{"Entwürfe", "Entwürfe.日本語"}; !reflect.DeepEqual(listed, want) {
		t.Errorf("List(\"\", \"Entwürfe*\") = %v, want %v", listed, want)
	}

	// STATUS with every item of RFC 3501 section 6.3.10 and RFC 7162.
	appendMsg(t, ctx, c, "Ärger & Co", time.Now(), "Subject: a\n\nx\n")
	appendMsg(t, ctx, c, "Ärger & Co", time.Now(), "Subject: b\n\ny\n")
	st, err := c.Status(ctx, "Ärger & Co", imap.StatusMessages, imap.StatusRecent, imap.StatusUIDNext,
		imap.StatusUIDValidity, imap.StatusUnseen, imap.StatusHighestModSeq)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	if st.Mailbox != "Ärger & Co" || st.Messages == nil || *st.Messages != 2 || st.Recent == nil || *st.Recent != 2 ||
		st.UIDNext == nil || *st.UIDNext != 3 || st.UIDValidity == nil || *st.UIDValidity == 0 ||
		st.Unseen == nil || *st.Unseen != 2 || st.HighestModSeq == 0 {
		t.Fatalf("Status(every item) = %+v", st)
	}

	// CHECK, CLOSE and UNSELECT.
	if _, err := c.Select(ctx, "Ärger & Co", nil); err != nil {
		t.Fatalf("Select: %v", err)
	}
	if err := c.Check(ctx); err != nil {
		t.Fatalf("Check: %v", err)
	}
	if err := c.Unselect(ctx); err != nil || c.State() != imap.Authenticated {
		t.Fatalf("Unselect = %v, state %v", err, c.State())
	}
	if _, err := c.Examine(ctx, "Ärger & Co"); err != nil {
		t.Fatalf("Examine: %v", err)
	}
	if err := c.CloseMailbox(ctx); err != nil || c.State() != imap.Authenticated {
		t.Fatalf("CloseMailbox = %v, state %v", err, c.State())
	}

	for _, name := range []string{"Entwürfe.日本語", "Entwürfe", "Ärger & Co", "Projekt Größe"} {
		if err := c.Delete(ctx, name); err != nil {
			t.Fatalf("Delete(%q): %v", name, err)
		}
	}
	list, err = c.List(ctx, "", "*")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 { // INBOX and Trash
		t.Errorf("List after Delete = %d mailboxes, want 2", len(list))
	}
	var e *imap.Error
	if err := c.Delete(ctx, "Entwürfe"); !errors.As(err, &e) || e.Status != "NO" {
		t.Errorf("Delete(missing) = %v, want NO", err)
	}
}

func TestParityNamespace(t *testing.T) {
	c, _, ctx := parityClient(t)
	ns, err := c.Namespace(ctx)
	if err != nil {
		t.Fatalf("Namespace: %v", err)
	}
	want := &imap.NamespaceData{Personal: []imap.Namespace{{Prefix: "", Delim: "."}}}
	if !reflect.DeepEqual(ns, want) {
		t.Fatalf("Namespace() = %+v, want %+v", ns, want)
	}
}

func TestParityACL(t *testing.T) {
	c, u, ctx := parityClient(t)
	if err := c.Create(ctx, "Shared"); err != nil {
		t.Fatal(err)
	}
	rights, err := c.MyRights(ctx, "Shared")
	if err != nil || !strings.Contains(rights, "a") || !strings.Contains(rights, "l") {
		t.Fatalf("MyRights(Shared) = %q, %v, want owner rights including l and a", rights, err)
	}
	acl, err := c.GetACL(ctx, "Shared")
	if err != nil || acl[u.Name] != rights {
		t.Fatalf("GetACL(Shared) = %v, %v, want %s: %s", acl, err, u.Name, rights)
	}
	// Dovecot refuses "anyone" unless acl_anyone = allow; other users are fine.
	if err := c.SetACL(ctx, "Shared", "bob", "lr"); err != nil {
		t.Fatalf("SetACL: %v", err)
	}
	if err := c.SetACL(ctx, "Shared", "bob", "+s"); err != nil {
		t.Fatalf("SetACL(+s): %v", err)
	}
	if err := c.SetACL(ctx, "Shared", "user with space", "l"); err != nil {
		t.Fatalf("SetACL(user with space): %v", err)
	}
	acl, err = c.GetACL(ctx, "Shared")
	if err != nil || acl["bob"] != "lrs" || acl["user with space"] != "l" {
		t.Fatalf("GetACL after SetACL = %v, %v, want bob: lrs, user with space: l", acl, err)
	}
	lr, err := c.ListRights(ctx, "Shared", "bob")
	if err != nil {
		t.Fatalf("ListRights: %v", err)
	}
	if lr.Mailbox != "Shared" || lr.Identifier != "bob" || !slices.Contains(lr.Optional, "l") || !slices.Contains(lr.Optional, "a") {
		t.Fatalf("ListRights = %+v", lr)
	}
	if err := c.DeleteACL(ctx, "Shared", "bob"); err != nil {
		t.Fatalf("DeleteACL: %v", err)
	}
	acl, err = c.GetACL(ctx, "Shared")
	if _, ok := acl["bob"]; err != nil || ok || acl["user with space"] != "l" {
		t.Fatalf("GetACL after DeleteACL = %v, %v, want no bob", acl, err)
	}
	var e *imap.Error
	if _, err := c.GetACL(ctx, "Missing"); !errors.As(err, &e) || e.Status != "NO" {
		t.Fatalf("GetACL(Missing) = %v, want NO", err)
	}
}

func TestParityQuota(t *testing.T) {
	c, _, ctx := parityClient(t)
	qr, err := c.GetQuotaRoot(ctx, "INBOX")
	if err != nil {
		t.Fatalf("GetQuotaRoot: %v", err)
	}
	want := &imap.QuotaRootData{Mailbox: "INBOX", Roots: []imap.QuotaRoot{{Name: "User quota", Quotas: []imap.Quota{
		{Resource: imap.QuotaStorage, Usage: 0, Limit: 1 << 20}, {Resource: imap.QuotaMessage, Usage: 0, Limit: 1000000}}}}}
	if !reflect.DeepEqual(qr, want) {
		t.Fatalf("GetQuotaRoot(INBOX) = %+v, want %+v", qr, want)
	}
	msg := "Subject: big\n\n" + strings.Repeat("0123456789abcdef\n", 200) // about 3.4 KiB
	appendMsg(t, ctx, c, "INBOX", time.Now(), msg)
	appendMsg(t, ctx, c, "INBOX", time.Now(), msg)
	q, err := c.GetQuota(ctx, "User quota")
	if err != nil {
		t.Fatalf("GetQuota: %v", err)
	}
	if q.Name != "User quota" || len(q.Quotas) != 2 || q.Quotas[0].Resource != imap.QuotaStorage ||
		q.Quotas[0].Usage < 6 || q.Quotas[0].Usage > 8 || q.Quotas[1] != (imap.Quota{Resource: imap.QuotaMessage, Usage: 2, Limit: 1000000}) {
		t.Fatalf("GetQuota(User quota) after two appends = %+v, want 2 messages, 6-8 KiB", q)
	}
	// Dovecot reserves SETQUOTA for admin users; a NO (not BAD) shows the
	// command was understood.
	_, err = c.SetQuota(ctx, "User quota", map[string]uint64{imap.QuotaStorage: 512, imap.QuotaMessage: 10})
	var e *imap.Error
	if !errors.As(err, &e) || e.Status != "NO" || !strings.Contains(e.Text, "admin") {
		t.Fatalf("SetQuota as non-admin = %v, want NO ... admin", err)
	}
}

func TestParityMetadata(t *testing.T) {
	c, _, ctx := parityClient(t)
	long := []byte(strings.Repeat("long value ", 50) + "\nwith a line break")
	err := c.SetMetadata(ctx, "INBOX", map[string][]byte{
		"/private/comment":          []byte("my inbox"),
		"/shared/comment":           long, // goes as a literal
		"/private/vendor/x/gruesse": []byte("ünïcödé"),
	})
	if err != nil {
		t.Fatalf("SetMetadata: %v", err)
	}
	md, err := c.GetMetadata(ctx, "INBOX", []string{"/private/comment", "/shared/comment", "/private/missing"}, nil)
	if err != nil {
		t.Fatalf("GetMetadata: %v", err)
	}
	want := map[string][]byte{"/private/comment": []byte("my inbox"), "/shared/comment": long, "/private/missing": nil}
	if !reflect.DeepEqual(md.Entries, want) || md.Mailbox != "INBOX" || md.LongEntries != 0 {
		t.Fatalf("GetMetadata = %+v, want entries %q", md, want)
	}
	md, err = c.GetMetadata(ctx, "INBOX", []string{"/private/comment", "/shared/comment"}, &imap.MetadataOptions{MaxSize: 100})
	if err != nil {
		t.Fatalf("GetMetadata(MAXSIZE 100): %v", err)
	}
	if _, ok := md.Entries["/shared/comment"]; ok || md.LongEntries != int64(len(long)) || string(md.Entries["/private/comment"]) != "my inbox" {
		t.Fatalf("GetMetadata(MAXSIZE 100) = %+v, want /shared/comment left out, LONGENTRIES %d", md, len(long))
	}
	md, err = c.GetMetadata(ctx, "INBOX", []string{"/private/vendor"}, &imap.MetadataOptions{Depth: imap.MetadataDepthInfinity})
	if err != nil || string(md.Entries["/private/vendor/x/gruesse"]) != "ünïcödé" {
		t.Fatalf("GetMetadata(DEPTH infinity) = %+v, %v", md, err)
	}
	// A nil value removes the entry.
	if err := c.SetMetadata(ctx, "INBOX", map[string][]byte{"/private/comment": nil}); err != nil {
		t.Fatalf("SetMetadata(nil): %v", err)
	}
	md, err = c.GetMetadata(ctx, "INBOX", []string{"/private/comment"}, nil)
	if v, ok := md.Entries["/private/comment"]; err != nil || !ok || v != nil {
		t.Fatalf("GetMetadata after removal = %+v, %v, want NIL", md, err)
	}
	// Server annotations: mailbox "".
	if err := c.SetMetadata(ctx, "", map[string][]byte{"/private/note": []byte("server")}); err != nil {
		t.Fatalf("SetMetadata(server): %v", err)
	}
	md, err = c.GetMetadata(ctx, "", []string{"/private/note"}, nil)
	if err != nil || string(md.Entries["/private/note"]) != "server" {
		t.Fatalf("GetMetadata(server) = %+v, %v", md, err)
	}
	var e *imap.Error
	if err := c.SetMetadata(ctx, "INBOX", map[string][]byte{"/bad/entry": []byte("x")}); !errors.As(err, &e) {
		t.Fatalf("SetMetadata(/bad/entry) = %v, want a server error", err)
	}
	// Refused before sending: a NUL value, and non-ASCII entry names (RFC
	// 5464 section 3.2), which as literals make Dovecot 2.3.19 panic.
	for _, bad := range []map[string][]byte{{"/private/nul": []byte("a\x00b")}, {"/private/grüße": []byte("x")}, {"/private/*": []byte("x")}} {
		if err := c.SetMetadata(ctx, "INBOX", bad); err == nil {
			t.Fatalf("SetMetadata(%q) = nil, want error", bad)
		}
	}
	if err := c.Noop(ctx); err != nil {
		t.Fatalf("Noop after refused SetMetadata: %v", err)
	}
	// ANNOTATEMORE is not offered by Dovecot: refused without sending.
	if _, err := c.GetAnnotation(ctx, "INBOX", "/comment", "value.priv"); !errors.Is(err, imap.ErrNotSupported) {
		t.Fatalf("GetAnnotation on Dovecot = %v, want ErrNotSupported", err)
	}
}

// threadMessages appends a small conversation: UIDs 1..5.
func threadMessages(t *testing.T, ctx context.Context, c *imap.Client) {
	t.Helper()
	base := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	msgs := []struct {
		from, subject, id, reply, body string
	}{
		{"carol@example.org", "Lunch", "<1@x>", "", "short"},
		{"alice@example.org", "Re: Lunch", "<2@x>", "<1@x>", strings.Repeat("long ", 100)},
		{"bob@example.org", "Budget", "<3@x>", "", strings.Repeat("mid ", 20)},
		{"dave@example.org", "Re: Lunch", "<4@x>", "<2@x>", "ok"},
		{"erin@example.org", "Re: Budget", "<5@x>", "<3@x>", "fine"},
	}
	for i, m := range msgs {
		date := base.Add(time.Duration(len(msgs)-i) * time.Hour) // arrival order reversed to Date order
		hdr := fmt.Sprintf("From: %s\nSubject: %s\nMessage-ID: %s\nDate: %s\n", m.from, m.subject, m.id,
			base.Add(time.Duration(i)*time.Hour).Format(time.RFC1123Z))
		if m.reply != "" {
			hdr += "In-Reply-To: " + m.reply + "\nReferences: " + m.reply + "\n"
		}
		appendMsg(t, ctx, c, "INBOX", date, hdr+"\n"+m.body+"\n")
	}
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
}

func TestParitySortThread(t *testing.T) {
	c, _, ctx := parityClient(t)
	threadMessages(t, ctx, c)
	sorts := []struct {
		criteria []imap.SortCriterion
		search   *imap.SearchCriteria
		want     []uint32
	}{
		{[]imap.SortCriterion{{Key: imap.SortFrom}}, nil, []uint32{2, 3, 1, 4, 5}},
		{[]imap.SortCriterion{{Key: imap.SortSize, Reverse: true}}, nil, []uint32{2, 3, 5, 4, 1}},
		{[]imap.SortCriterion{{Key: imap.SortArrival}}, nil, []uint32{5, 4, 3, 2, 1}},
		{[]imap.SortCriterion{{Key: imap.SortDate}}, nil, []uint32{1, 2, 3, 4, 5}},
		{[]imap.SortCriterion{{Key: imap.SortSubject}, {Key: imap.SortDate, Reverse: true}}, nil, []uint32{5, 3, 4, 2, 1}},
		{[]imap.SortCriterion{{Key: imap.SortDate, Reverse: true}}, &imap.SearchCriteria{Header: [][2]string{{"Subject", "Lunch"}}}, []uint32{4, 2, 1}},
	}
	for _, s := range sorts {
		got, err := c.UIDSort(ctx, s.criteria, s.search)
		if err != nil || !reflect.DeepEqual(got, s.want) {
			t.Errorf("UIDSort(%v, %+v) = %v, %v, want %v", s.criteria, s.search, got, err, s.want)
		}
		got, err = c.Sort(ctx, s.criteria, s.search) // sequence numbers equal UIDs here
		if err != nil || !reflect.DeepEqual(got, s.want) {
			t.Errorf("Sort(%v, %+v) = %v, %v, want %v", s.criteria, s.search, got, err, s.want)
		}
	}
	threads := []struct {
		alg  imap.ThreadAlgorithm
		want []string
	}{
		{imap.ThreadReferences, []string{"(1 2 4)", "(3 5)"}},
		{imap.ThreadOrderedSubject, []string{"(1 (2)(4))", "(3 5)"}},
	}
	for _, tt := range threads {
		for _, uid := range []bool{false, true} {
			var got []*imap.Thread
			var err error
			if uid {
				got, err = c.UIDThread(ctx, tt.alg, nil)
			} else {
				got, err = c.Thread(ctx, tt.alg, nil)
			}
			var s []string
			for _, th := range got {
				s = append(s, th.String())
			}
			if err != nil || !reflect.DeepEqual(s, tt.want) {
				t.Errorf("Thread(%s, uid=%v) = %v, %v, want %v", tt.alg, uid, s, err, tt.want)
			}
		}
	}
	got, err := c.UIDThread(ctx, imap.ThreadReferences, &imap.SearchCriteria{Header: [][2]string{{"Subject", "Budget"}}})
	if err != nil || len(got) != 1 || got[0].String() != "(3 5)" {
		t.Errorf("UIDThread(REFERENCES, Subject Budget) = %v, %v, want [(3 5)]", got, err)
	}
	if _, err := c.Thread(ctx, "X-NOPE", nil); !errors.Is(err, imap.ErrNotSupported) {
		t.Errorf("Thread(X-NOPE) = %v, want ErrNotSupported", err)
	}
}

func TestParitySearch(t *testing.T) {
	c, _, ctx := parityClient(t)
	threadMessages(t, ctx, c)
	if err := c.UIDStore(ctx, imap.SeqSetFromNums(2, 4), imap.StoreAdd, true, []string{imap.FlagSeen, "$Work"}); err != nil {
		t.Fatal(err)
	}
	day := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	searches := []struct {
		name     string
		criteria imap.SearchCriteria
		want     []uint32
	}{
		{"all", imap.All(), []uint32{1, 2, 3, 4, 5}},
		{"and", imap.And(imap.Subject("lunch"), imap.Unseen()), []uint32{1}},
		{"or", imap.Or(imap.From("bob"), imap.From("erin")), []uint32{3, 5}},
		{"not", imap.Not(imap.Subject("Re:")), []uint32{1, 3}},
		{"keyword", imap.Keyword("$Work"), []uint32{2, 4}},
		{"unkeyword", imap.And(imap.Unkeyword("$Work"), imap.Not(imap.Seen())), []uint32{1, 3, 5}},
		{"size", imap.And(imap.LargerThan(200), imap.SmallerThan(1000)), []uint32{2}},
		{"uids", imap.And(imap.UIDs(imap.SeqSetFromNums(1, 2, 3)), imap.UIDs(imap.SeqSetFromNums(2, 3, 4))), []uint32{2, 3}},
		{"sent on", imap.SentOnDate(day), []uint32{1, 2, 3, 4, 5}},
		{"on", imap.OnDate(day), []uint32{1, 2, 3, 4, 5}},
		{"sent before", imap.SentBeforeDate(day), nil},
		{"since", imap.And(imap.SinceDate(day), imap.BeforeDate(day.AddDate(0, 0, 1))), []uint32{1, 2, 3, 4, 5}},
		{"header exists", imap.Header("In-Reply-To", ""), []uint32{2, 4, 5}},
		{"body", imap.Body("mid"), []uint32{3}},
		{"text", imap.Text("dave@"), []uint32{4}},
		{"raw", imap.And(imap.RawCriteria("NOT DELETED"), imap.Flagged()), nil},
		{"nested", imap.Or(imap.And(imap.Subject("Budget"), imap.Not(imap.Subject("Re:"))), imap.Keyword("$Work")), []uint32{2, 3, 4}},
	}
	for _, s := range searches {
		got, err := c.UIDSearch(ctx, &s.criteria)
		if err != nil || !(reflect.DeepEqual(got, s.want) || len(got) == 0 && len(s.want) == 0) {
			t.Errorf("%s: UIDSearch(%+v) = %v, %v, want %v", s.name, s.criteria, got, err, s.want)
		}
	}
	// CHARSET UTF-8 is sent for non-ASCII strings.
	appendMsg(t, ctx, c, "INBOX", time.Now(), "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\nFrom: x@example.org\n\nHallo\n")
	if got, err := c.UIDSearch(ctx, &imap.SearchCriteria{Header: [][2]string{{"Subject", "Grüße"}}}); err != nil || !reflect.DeepEqual(got, []uint32{6}) {
		t.Errorf("UIDSearch(Subject Grüße) = %v, %v, want [6]", got, err)
	}

	// ESEARCH (RFC 4731): Dovecot has it.
	if !c.Has(imap.CapESearch) {
		t.Fatalf("Dovecot lacks ESEARCH")
	}
	ret := &imap.SearchOptions{Return: []imap.SearchReturn{imap.SearchReturnMin, imap.SearchReturnMax, imap.SearchReturnCount, imap.SearchReturnAll}}
	crit := imap.Or(imap.Subject("Lunch"), imap.Subject("Grüße"))
	sd, err := c.UIDSearchExtended(ctx, &crit, ret)
	want := &imap.SearchData{UID: true, Min: 1, Max: 6, Count: 4, All: imap.SeqSetFromNums(1, 2, 4, 6), Extended: true}
	if err != nil || !reflect.DeepEqual(sd, want) {
		t.Errorf("UIDSearchExtended(MIN MAX COUNT ALL) = %+v, %v, want %+v", sd, err, want)
	}
	none := imap.Subject("no such subject")
	sd, err = c.SearchExtended(ctx, &none, &imap.SearchOptions{Return: []imap.SearchReturn{imap.SearchReturnCount}})
	if err != nil || !reflect.DeepEqual(sd, &imap.SearchData{Extended: true}) {
		t.Errorf("SearchExtended(COUNT, nothing) = %+v, %v", sd, err)
	}
	sd, err = c.SearchExtended(ctx, nil, &imap.SearchOptions{Charset: "US-ASCII"})
	if err != nil || sd.All.String() != "1:6" {
		t.Errorf("SearchExtended(ALL, CHARSET US-ASCII) = %+v, %v", sd, err)
	}

	// Without ESEARCH the same results are computed from a plain SEARCH.
	plain, err := dovecottest.Start(&dovecottest.Options{Capability: "IMAP4rev1 SORT"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { plain.Close() })
	pu := plain.NewUser(t)
	pc := connect(t, plain, pu, "plain", nil)
	threadMessages(t, ctx, pc)
	if pc.Has(imap.CapESearch) {
		t.Fatalf("capability override failed: %v", pc.Caps())
	}
	crit = imap.Subject("Lunch")
	sd, err = pc.UIDSearchExtended(ctx, &crit, ret)
	want = &imap.SearchData{UID: true, Min: 1, Max: 4, Count: 3, All: imap.SeqSetFromNums(1, 2, 4)}
	if err != nil || !reflect.DeepEqual(sd, want) {
		t.Errorf("UIDSearchExtended without ESEARCH = %+v, %v, want %+v", sd, err, want)
	}
}

func TestParityIDEnableProxyAuth(t *testing.T) {
	c, _, ctx := parityClient(t)
	server, err := c.ID(ctx, map[string]string{"name": "mailrules", "version": "test \"quoted\""})
	if err != nil || server["name"] != "Dovecot" {
		t.Fatalf("ID = %v, %v, want name Dovecot", server, err)
	}
	if server, err := c.ID(ctx, nil); err != nil || server["name"] != "Dovecot" {
		t.Fatalf("ID(nil) = %v, %v", server, err)
	}
	// Dovecot 2.3 has no UTF8=ACCEPT: only CONDSTORE is enabled.
	enabled, err := c.Enable(ctx, imap.CapUTF8Accept, imap.CapCondStore)
	if err != nil || !reflect.DeepEqual(enabled, []imap.Cap{imap.CapCondStore}) {
		t.Fatalf("Enable(UTF8=ACCEPT, CONDSTORE) = %v, %v, want [CONDSTORE]", enabled, err)
	}
	if !c.Enabled(imap.CapCondStore) || c.Enabled(imap.CapUTF8Accept) {
		t.Fatalf("Enabled: CONDSTORE %v, UTF8=ACCEPT %v", c.Enabled(imap.CapCondStore), c.Enabled(imap.CapUTF8Accept))
	}
	// PROXYAUTH is Cyrus-only: Dovecot answers BAD, and the connection lives on.
	var e *imap.Error
	if err := c.ProxyAuth(ctx, "someone"); !errors.As(err, &e) || e.Status != "BAD" {
		t.Fatalf("ProxyAuth on Dovecot = %v, want BAD", err)
	}
	if err := c.Noop(ctx); err != nil {
		t.Fatalf("Noop after PROXYAUTH: %v", err)
	}
}

func TestParityPartialExecute(t *testing.T) {
	c, _, ctx := parityClient(t)
	msg := "Subject: partial\r\nFrom: a@example.org\r\n\r\n0123456789abcdefghij\r\n"
	uid := appendMsg(t, ctx, c, "INBOX", time.Now(), msg)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	body := msg[strings.Index(msg, "\r\n\r\n")+4:]
	parts := []struct {
		uid            bool
		section        string
		offset, length int64
		want           string
	}{
		{false, "", 0, 9, msg[:9]},
		{true, "", 9, 7, msg[9:16]},
		{true, "TEXT", 10, 5, body[10:15]},
		{false, "TEXT", 20, 100, body[20:]},
		{true, "HEADER", 0, 7, "Subject"},
	}
	for _, p := range parts {
		var got []byte
		var err error
		if p.uid {
			got, err = c.UIDPartial(ctx, uid, p.section, p.offset, p.length)
		} else {
			got, err = c.Partial(ctx, 1, p.section, p.offset, p.length)
		}
		if err != nil || string(got) != p.want {
			t.Errorf("Partial(uid=%v, %q, %d, %d) = %q, %v, want %q", p.uid, p.section, p.offset, p.length, got, err, p.want)
		}
	}
	if got, err := c.UIDPartial(ctx, uid+100, "", 0, 5); err != nil || got != nil {
		t.Errorf("UIDPartial(missing UID) = %q, %v, want nil, nil", got, err)
	}
	var seen bool
	err := c.UIDFetch(ctx, imap.SeqSetFromNums(uid), []imap.FetchItem{imap.FetchFlags}, func(m *imap.FetchMessage) error {
		seen = m.HasFlag(imap.FlagSeen)
		return nil
	})
	if err != nil || seen {
		t.Errorf("after Partial: \\Seen = %v, %v, want not set (BODY.PEEK)", seen, err)
	}

	// Execute: imaplib's xatom and uid(command, ...).
	res, err := c.Execute(ctx, "GETQUOTAROOT", imap.MailboxName("INBOX"))
	if err != nil || res.Status != "OK" || len(res.Untagged) != 2 || !strings.HasPrefix(res.Untagged[0].Line, "* QUOTAROOT INBOX") {
		t.Fatalf("Execute(GETQUOTAROOT) = %+v, %v", res, err)
	}
	res, err = c.Execute(ctx, "UID SORT", imap.Atom("(SUBJECT)"), imap.Atom("UTF-8"), imap.Atom("ALL"))
	if err != nil || len(res.Untagged) != 1 || res.Untagged[0].Line != fmt.Sprintf("* SORT %d", uid) {
		t.Fatalf("Execute(UID SORT) = %+v, %v", res, err)
	}
	res, err = c.Execute(ctx, "XNOSUCHCOMMAND")
	var e *imap.Error
	if !errors.As(err, &e) || e.Status != "BAD" || res == nil || res.Status != "BAD" {
		t.Fatalf("Execute(XNOSUCHCOMMAND) = %+v, %v, want BAD", res, err)
	}
}

// TestParitySASL authenticates with every mechanism Dovecot offers.
func TestParitySASL(t *testing.T) {
	dovecottest.Require(t, srv)
	u := srv.NewUser(t)
	mechs := []struct {
		name string
		mech func(user, pass string) sasl.Mechanism
	}{
		{"PLAIN", func(u, p string) sasl.Mechanism { return sasl.Plain("", u, p) }},
		{"LOGIN", sasl.Login},
		{"CRAM-MD5", sasl.CRAMMD5},
	}
	for _, m := range mechs {
		t.Run(m.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			for _, transport := range []string{"plain", "tls"} {
				var trace bytes.Buffer
				var c *imap.Client
				var err error
				if transport == "tls" {
					c, err = imap.DialTLS(ctx, srv.TLSAddr(), srv.TLSConfig(), &imap.Options{Trace: &trace})
				} else {
					c, err = imap.Dial(ctx, srv.Addr(), &imap.Options{Trace: &trace})
				}
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				if !slices.Contains(c.Caps().AuthMechs(), m.name) {
					t.Fatalf("Dovecot does not offer %s: %v", m.name, c.Caps())
				}
				var e *imap.Error
				if err := c.Authenticate(ctx, m.mech(u.Name, "wrong")); !errors.As(err, &e) || e.Status != "NO" {
					t.Fatalf("Authenticate(%s, wrong password) over %s = %v, want NO", m.name, transport, err)
				}
				if err := c.Authenticate(ctx, m.mech(u.Name, u.Password)); err != nil {
					t.Fatalf("Authenticate(%s) over %s: %v", m.name, transport, err)
				}
				if c.State() != imap.Authenticated || !c.Has(imap.CapACL) {
					t.Fatalf("after Authenticate(%s): state %v, caps %v", m.name, c.State(), c.Caps())
				}
				if _, err := c.Select(ctx, "INBOX", nil); err != nil {
					t.Fatalf("Select after Authenticate(%s): %v", m.name, err)
				}
				if strings.Contains(trace.String(), u.Password) {
					t.Errorf("trace of %s contains the password", m.name)
				}
			}
		})
	}
	t.Run("not offered", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		c, err := imap.Dial(ctx, srv.Addr(), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for _, m := range []sasl.Mechanism{sasl.XOAuth2(u.Name, "token"), sasl.OAuthBearer(u.Name, "token", "localhost", 143)} {
			err := c.Authenticate(ctx, m)
			if !errors.Is(err, imap.ErrNotSupported) || !strings.Contains(err.Error(), "AUTH="+m.Name()) {
				t.Errorf("Authenticate(%s) on Dovecot = %v, want ErrNotSupported naming AUTH=%s", m.Name(), err, m.Name())
			}
		}
		if c.State() != imap.NotAuthenticated {
			t.Errorf("state after refused mechanisms = %v", c.State())
		}
	})
}
