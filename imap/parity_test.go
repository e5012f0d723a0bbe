package imap

import (
	"context"
	"encoding/base64"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/mailrules/mailrules/imap/sasl"
)

// The tests in this file use a scripted server for what Dovecot 2.3 will
// not do: the OAuth mechanisms, UTF8=ACCEPT, ANNOTATEMORE, PROXYAUTH,
// a successful SETQUOTA, and other servers' response forms.

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// TestOAuthExchanges checks the exact AUTHENTICATE lines of XOAUTH2 and
// OAUTHBEARER, with and without SASL-IR, and the error-challenge path
// (RFC 7628 section 3.2.3).
func TestOAuthExchanges(t *testing.T) {
	xoIR := "user=bob@example.org\x01auth=Bearer tok\x01\x01"
	obIR := "n,a=bob@example.org,\x01host=imap.example.org\x01port=993\x01auth=Bearer tok\x01\x01"
	errJSON := `{"status":"invalid_token","scope":"mail"}`
	tests := []struct {
		name      string
		mech      func() sasl.Mechanism
		ir        string
		saslIR    bool
		fail      bool
		errAnswer string // the client's answer to the error challenge
	}{
		{"XOAUTH2 SASL-IR", func() sasl.Mechanism { return sasl.XOAuth2("bob@example.org", "tok") }, xoIR, true, false, ""},
		{"XOAUTH2 no SASL-IR", func() sasl.Mechanism { return sasl.XOAuth2("bob@example.org", "tok") }, xoIR, false, false, ""},
		{"XOAUTH2 error", func() sasl.Mechanism { return sasl.XOAuth2("bob@example.org", "tok") }, xoIR, true, true, ""},
		{"OAUTHBEARER SASL-IR", func() sasl.Mechanism { return sasl.OAuthBearer("bob@example.org", "tok", "imap.example.org", 993) }, obIR, true, false, ""},
		{"OAUTHBEARER no SASL-IR error", func() sasl.Mechanism {
			return sasl.OAuthBearer("bob@example.org", "tok", "imap.example.org", 993)
		}, obIR, false, true, b64("\x01")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mech := tt.mech()
			caps := "IMAP4rev1 AUTH=" + mech.Name()
			if tt.saslIR {
				caps += " SASL-IR"
			}
			c := dialFake(t, nil, func(s *fakeConn) {
				s.send("* OK [CAPABILITY " + caps + "] hi")
				var tag string
				if tt.saslIR {
					tag = s.expect("AUTHENTICATE " + mech.Name() + " " + b64(tt.ir))
				} else {
					tag = s.expect("AUTHENTICATE " + mech.Name())
					s.send("+ ")
					if got := s.readLine(); got != b64(tt.ir) {
						t.Errorf("initial response = %q, want %q", got, b64(tt.ir))
					}
				}
				if tt.fail {
					s.send("+ " + b64(errJSON))
					if got := s.readLine(); got != tt.errAnswer {
						t.Errorf("answer to error challenge = %q, want %q", got, tt.errAnswer)
					}
					s.send(tag + " NO [AUTHENTICATIONFAILED] invalid credentials")
					tag = s.expect("NOOP")
					s.send(tag + " OK")
					return
				}
				s.send(tag + " OK [CAPABILITY IMAP4rev1 IDLE] authenticated")
			})
			err := c.Authenticate(context.Background(), mech)
			serverErr := mech.(sasl.ServerErrorer).ServerError()
			if !tt.fail {
				if err != nil || c.State() != Authenticated || !c.Has(CapIdle) || serverErr != nil {
					t.Fatalf("Authenticate = %v, state %v, caps %v, ServerError %v", err, c.State(), c.Caps(), serverErr)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Code != "AUTHENTICATIONFAILED" {
				t.Fatalf("Authenticate = %v, want NO [AUTHENTICATIONFAILED]", err)
			}
			if serverErr == nil || serverErr.Status != "invalid_token" || serverErr.Scope != "mail" {
				t.Fatalf("ServerError() = %+v, want invalid_token", serverErr)
			}
			if err := c.Noop(context.Background()); err != nil || c.State() != NotAuthenticated {
				t.Fatalf("after failed Authenticate: Noop = %v, state %v", err, c.State())
			}
		})
	}
}

// TestUTF8MailboxNames: after ENABLE UTF8=ACCEPT (RFC 6855 section 3)
// mailbox names go as UTF-8 quoted strings instead of modified UTF-7.
func TestUTF8MailboxNames(t *testing.T) {
	c := dialFake(t, nil, func(s *fakeConn) {
		s.send("* PREAUTH [CAPABILITY IMAP4rev1 ENABLE UTF8=ACCEPT] hi")
		tag := s.expect("CREATE Entw&APw-rfe")
		s.send(tag + " OK")
		tag = s.expect("ENABLE UTF8=ACCEPT")
		s.send("* ENABLED UTF8=ACCEPT", tag+" OK")
		tag = s.expect(`CREATE "Entwürfe/日本語"`)
		s.send(tag + " OK")
		tag = s.expect(`LIST "" Entw*`)
		s.send(`* LIST () "/" "Entwürfe/日本語"`, `* LIST () "/" Entw&APw-rfe`, tag+" OK")
		tag = s.expect(`STATUS "Entwürfe/日本語" (MESSAGES)`)
		s.send(`* STATUS "Entwürfe/日本語" (MESSAGES 3)`, tag+" OK")
	})
	ctx := context.Background()
	if err := c.Create(ctx, "Entwürfe"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Enable(ctx, CapUTF8Accept); err != nil {
		t.Fatal(err)
	}
	if err := c.Create(ctx, "Entwürfe/日本語"); err != nil {
		t.Fatal(err)
	}
	list, err := c.List(ctx, "", "Entw*")
	if err != nil || len(list) != 2 || list[0].Name != "Entwürfe/日本語" || list[1].Name != "Entw&APw-rfe" {
		t.Fatalf("List = %v, %v: want UTF-8 names taken as sent", list, err)
	}
	st, err := c.Status(ctx, "Entwürfe/日本語", StatusMessages)
	if err != nil || st.Mailbox != "Entwürfe/日本語" || *st.Messages != 3 {
		t.Fatalf("Status = %+v, %v", st, err)
	}
}

func TestParseNamespace(t *testing.T) {
	tests := []struct {
		line string
		want *NamespaceData
	}{
		// RFC 2342 section 5, examples 5.1, 5.4 and 5.7
		{`(("" "/")) NIL NIL`, &NamespaceData{Personal: []Namespace{{Prefix: "", Delim: "/"}}}},
		{`(("" "/")) (("~" "/")) (("#shared/" "/")("#public/" "/")("#ftp/" "/")("#news." "."))`, &NamespaceData{
			Personal: []Namespace{{Delim: "/"}}, Other: []Namespace{{Prefix: "~", Delim: "/"}},
			Shared: []Namespace{{Prefix: "#shared/", Delim: "/"}, {Prefix: "#public/", Delim: "/"}, {Prefix: "#ftp/", Delim: "/"}, {Prefix: "#news.", Delim: "."}}}},
		{`(("INBOX." ".")) NIL (("" "." "X-PARAM" ("FLAG1" "FLAG2")))`, &NamespaceData{
			Personal: []Namespace{{Prefix: "INBOX.", Delim: "."}},
			Shared:   []Namespace{{Delim: ".", Extensions: map[string][]string{"X-PARAM": {"FLAG1", "FLAG2"}}}}}},
		{`(("" NIL)) NIL (("Andere &AMQ-" "/"))`, &NamespaceData{Personal: []Namespace{{}}, Shared: []Namespace{{Prefix: "Andere Ä", Delim: "/"}}}},
	}
	for _, tt := range tests {
		c := dialFake(t, nil, func(s *fakeConn) {
			s.send("* PREAUTH [CAPABILITY IMAP4rev1 NAMESPACE] hi")
			tag := s.expect("NAMESPACE")
			s.send("* NAMESPACE "+tt.line, tag+" OK")
		})
		got, err := c.Namespace(context.Background())
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Namespace(%s) = %+v, %v, want %+v", tt.line, got, err, tt.want)
		}
	}
}

func TestParseThread(t *testing.T) {
	tests := []struct {
		line string
		want []string
	}{
		// RFC 5256 section 4 examples
		{"(2)(3 6 (4 23)(44 7 96))", []string{"(2)", "(3 6 (4 23)(44 7 96))"}},
		{"((3)(5))", []string{"((3)(5))"}},
		{"", nil},
		{"(166)(167)(168)(169)(172)(170)(171)(173)(174 (175)(176)(178)(181)(180))(179)", []string{"(166)", "(167)", "(168)", "(169)", "(172)", "(170)", "(171)", "(173)", "(174 (175)(176)(178)(181)(180))", "(179)"}},
	}
	for _, tt := range tests {
		c := dialFake(t, nil, func(s *fakeConn) {
			s.send("* PREAUTH [CAPABILITY IMAP4rev1 THREAD=REFERENCES] hi")
			tag := s.expect("UID THREAD REFERENCES UTF-8 ALL")
			line := "* THREAD"
			if tt.line != "" {
				line += " " + tt.line
			}
			s.send(line, tag+" OK")
		})
		threads, err := c.UIDThread(context.Background(), ThreadReferences, nil)
		var got []string
		for _, th := range threads {
			got = append(got, th.String())
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("UIDThread for %q = %v, %v, want %v", tt.line, got, err, tt.want)
		}
	}
	// The tree itself: 3 -> 6 -> {4 -> 23, 44 -> 7 -> 96}.
	want := &Thread{Num: 3, Children: []*Thread{{Num: 6, Children: []*Thread{
		{Num: 4, Children: []*Thread{{Num: 23}}},
		{Num: 44, Children: []*Thread{{Num: 7, Children: []*Thread{{Num: 96}}}}}}}}}
	if got := want.String(); got != "(3 6 (4 23)(44 7 96))" {
		t.Errorf("Thread.String() = %q", got)
	}
}

// TestCommandWire checks the command lines and result parsing of commands
// whose success path Dovecot does not offer.
func TestCommandWire(t *testing.T) {
	ctx := context.Background()
	c := dialFake(t, nil, func(s *fakeConn) {
		s.send("* PREAUTH [CAPABILITY IMAP4rev1 QUOTA ANNOTATEMORE ACL METADATA ESEARCH] hi")
		tag := s.expect("SETQUOTA \"User quota\" (MESSAGE 10 STORAGE 512)")
		s.send(`* QUOTA "User quota" (STORAGE 10 512 MESSAGE 1 10)`, tag+" OK")
		tag = s.expect(`GETANNOTATION INBOX "/comment" "value.*"`)
		s.send(`* ANNOTATION INBOX "/comment" ("value.priv" "My comment" "value.shared" NIL)`, tag+" OK")
		tag = s.expect(`SETANNOTATION INBOX "/comment" ("value.priv" "new" "value.shared" NIL)`)
		s.send(tag + " OK")
		tag = s.expect("PROXYAUTH alice")
		s.send(tag + " OK [CAPABILITY IMAP4rev1 QUOTA] proxied")
		tag = s.expect("GETACL INBOX")
		s.send(`* ACL INBOX Fred rwipslxetad "-Fred" w "user name" lr`, tag+" OK")
		tag = s.expect("GETMETADATA (MAXSIZE 1024 DEPTH 1) INBOX (/private/comment)")
		s.send(`* METADATA INBOX (/private/comment {4}`, "a\r\nb /private/comment/x \"\")", `* METADATA INBOX /shared/changed`, tag+" OK [METADATA LONGENTRIES 2000] done")
		tag = s.expect(`UID SEARCH RETURN (MIN COUNT) CHARSET UTF-8 HEADER Subject {7+}`)
		if got := s.readN(7); got != "Grüße" {
			t.Errorf("literal = %q", got)
		}
		s.readLine()
		s.send(`* ESEARCH (TAG "`+tag+`") UID MIN 7 COUNT 3 MODSEQ 99`, tag+" OK")
	})
	q, err := c.SetQuota(ctx, "User quota", map[string]uint64{"STORAGE": 512, "message": 10})
	if err != nil || !reflect.DeepEqual(q, &QuotaRoot{Name: "User quota", Quotas: []Quota{{QuotaStorage, 10, 512}, {QuotaMessage, 1, 10}}}) {
		t.Fatalf("SetQuota = %+v, %v", q, err)
	}
	ann, err := c.GetAnnotation(ctx, "INBOX", "/comment", "value.*")
	want := []Annotation{{Mailbox: "INBOX", Entry: "/comment", Attributes: map[string][]byte{"value.priv": []byte("My comment"), "value.shared": nil}}}
	if err != nil || !reflect.DeepEqual(ann, want) {
		t.Fatalf("GetAnnotation = %+v, %v", ann, err)
	}
	if err := c.SetAnnotation(ctx, "INBOX", "/comment", map[string][]byte{"value.priv": []byte("new"), "value.shared": nil}); err != nil {
		t.Fatalf("SetAnnotation: %v", err)
	}
	if err := c.ProxyAuth(ctx, "alice"); err != nil || c.Has(CapACL) {
		t.Fatalf("ProxyAuth = %v, caps %v (want refreshed)", err, c.Caps())
	}
	// ProxyAuth's capabilities dropped ACL, METADATA and ESEARCH; the
	// remaining commands check capabilities first, so restore them.
	c.setCaps(CapSet{CapIMAP4rev1: {}, CapACL: {}, CapMetadata: {}, CapESearch: {}, CapLiteralPlus: {}})
	acl, err := c.GetACL(ctx, "INBOX")
	if err != nil || !reflect.DeepEqual(acl, ACL{"Fred": "rwipslxetad", "-Fred": "w", "user name": "lr"}) {
		t.Fatalf("GetACL = %v, %v", acl, err)
	}
	var updates []Update
	c.opts.UpdateHandler = func(u Update) { updates = append(updates, u) }
	md, err := c.GetMetadata(ctx, "INBOX", []string{"/private/comment"}, &MetadataOptions{MaxSize: 1024, Depth: MetadataDepthOne})
	if err != nil || !reflect.DeepEqual(md, &MetadataData{Mailbox: "INBOX", Entries: map[string][]byte{"/private/comment": []byte("a\r\nb"), "/private/comment/x": {}}, LongEntries: 2000}) {
		t.Fatalf("GetMetadata = %+v, %v", md, err)
	}
	if len(updates) != 1 || updates[0].Kind != UpdateOther || updates[0].Text != "METADATA INBOX /shared/changed" {
		t.Fatalf("unsolicited METADATA delivered as %+v", updates)
	}
	crit := SearchCriteria{Header: [][2]string{{"Subject", "Grüße"}}}
	sd, err := c.UIDSearchExtended(ctx, &crit, &SearchOptions{Return: []SearchReturn{SearchReturnMin, SearchReturnCount}})
	if err != nil || !reflect.DeepEqual(sd, &SearchData{UID: true, Min: 7, Count: 3, ModSeq: 99, Extended: true}) {
		t.Fatalf("UIDSearchExtended = %+v, %v", sd, err)
	}
}

func TestCommandsNeedCapabilities(t *testing.T) {
	c := dialFake(t, nil, func(s *fakeConn) {
		s.send("* PREAUTH [CAPABILITY IMAP4rev1] hi")
	})
	ctx := context.Background()
	calls := map[string]func() error{
		"Namespace":    func() error { _, err := c.Namespace(ctx); return err },
		"GetACL":       func() error { _, err := c.GetACL(ctx, "INBOX"); return err },
		"SetACL":       func() error { return c.SetACL(ctx, "INBOX", "bob", "lr") },
		"DeleteACL":    func() error { return c.DeleteACL(ctx, "INBOX", "bob") },
		"MyRights":     func() error { _, err := c.MyRights(ctx, "INBOX"); return err },
		"ListRights":   func() error { _, err := c.ListRights(ctx, "INBOX", "bob"); return err },
		"GetQuota":     func() error { _, err := c.GetQuota(ctx, ""); return err },
		"GetQuotaRoot": func() error { _, err := c.GetQuotaRoot(ctx, "INBOX"); return err },
		"SetQuota":     func() error { _, err := c.SetQuota(ctx, "", nil); return err },
		"GetMetadata":  func() error { _, err := c.GetMetadata(ctx, "INBOX", []string{"/private/x"}, nil); return err },
		"SetMetadata":  func() error { return c.SetMetadata(ctx, "", map[string][]byte{"/private/x": nil}) },
		"Sort":         func() error { _, err := c.Sort(ctx, []SortCriterion{{Key: SortDate}}, nil); return err },
		"Thread":       func() error { _, err := c.Thread(ctx, ThreadReferences, nil); return err },
		"ID":           func() error { _, err := c.ID(ctx, nil); return err },
		"GetAnnotation": func() error {
			_, err := c.GetAnnotation(ctx, "INBOX", "/comment", "value.priv")
			return err
		},
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, ErrNotSupported) || !strings.Contains(err.Error(), "server lacks") {
			t.Errorf("%s without the capability = %v, want ErrNotSupported", name, err)
		}
	}
}
