package engine

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/mailrules/mailrules/config"
	"github.com/mailrules/mailrules/rules"
)

// scriptedServer answers just enough IMAP for one pass over a mailbox whose
// SELECT response lacks UIDNEXT, as some servers send it, and records the
// commands it was sent. Dovecot always sends UIDNEXT, so this needs a fake.
func scriptedServer(t *testing.T) (addr string, commands func() []string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var (
		mu   sync.Mutex
		seen []string
	)
	go func() {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(30 * time.Second))
		r := bufio.NewReader(conn)
		fmt.Fprint(conn, "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR MOVE UIDPLUS] scripted\r\n")
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			tag, cmd, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
			mu.Lock()
			seen = append(seen, cmd)
			mu.Unlock()
			switch verb := strings.ToUpper(strings.Fields(cmd)[0]); {
			case verb == "SELECT":
				fmt.Fprintf(conn, "* 3 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 7] ok\r\n%s OK [READ-WRITE] selected\r\n", tag)
			case verb == "FETCH": // FETCH * (UID)
				fmt.Fprintf(conn, "* 3 FETCH (UID 42)\r\n%s OK done\r\n", tag)
			case verb == "LOGOUT":
				fmt.Fprintf(conn, "* BYE bye\r\n%s OK done\r\n", tag)
				return
			default: // AUTHENTICATE, UID FETCH (nothing new)
				fmt.Fprintf(conn, "%s OK done\r\n", tag)
			}
		}
	}()
	return l.Addr().String(), func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
}

func TestFirstPassWithoutUIDNext(t *testing.T) {
	addr, commands := scriptedServer(t)
	host, port, _ := net.SplitHostPort(addr)
	portNum, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("MAILRULES_TEST_PASSWORD", "secret")
	set, err := rules.Compile([]rules.Spec{{Name: "spam", When: `header("X-Spam-Flag") == "YES"`, Move: "Junk"}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{Rules: set, Accounts: []*config.Account{{
		Name: "a", Host: host, Port: portNum, TLS: "none", Username: "u",
		Password: &config.Secret{Env: "MAILRULES_TEST_PASSWORD"}, Mailboxes: []string{"INBOX"},
	}}}
	store, err := OpenStore(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := New(cfg, store, zap.NewNop(), nil).Run(context.Background()); err != nil {
		t.Fatalf("Run = %v; commands %q", err, commands())
	}
	st, ok, err := store.Get("a", "INBOX")
	if err != nil || !ok {
		t.Fatalf("state = %v, %v", ok, err)
	}
	if st.HighestUID != 42 || st.UIDValidity != 7 {
		t.Fatalf("state after a first pass without UIDNEXT = %+v, want highest UID 42 (the last message), UIDVALIDITY 7", st)
	}
	if cmds := strings.Join(commands(), "\n"); !strings.Contains(cmds, "FETCH * (UID)") || !strings.Contains(cmds, "UID FETCH 43:*") {
		t.Fatalf("commands:\n%s\nwant FETCH * (UID) for the highest UID, then UID FETCH 43:*", cmds)
	}
}
