package e2e

import (
	"bufio"
	"io"
	"net"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// notifyRefuser is a loopback proxy in front of a real Dovecot that
// answers every NOTIFY SET itself with NO [BADEVENT], as a server that
// supports some other set of events would (RFC 5465 section 7), and
// forwards everything else. It counts the connections it carries.
type notifyRefuser struct {
	ln         net.Listener
	target     string
	live, peak atomic.Int64
	refused    atomic.Int64
	wg         sync.WaitGroup
}

var notifySet = regexp.MustCompile(`(?i)^(\S+) NOTIFY SET\b`)

func newNotifyRefuser(t *testing.T, target string) *notifyRefuser {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &notifyRefuser{ln: ln, target: target}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	return p
}

func (p *notifyRefuser) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go p.serve(client)
	}
}

func (p *notifyRefuser) serve(client net.Conn) {
	defer p.wg.Done()
	defer client.Close()
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer server.Close()
	if n := p.live.Add(1); n > p.peak.Load() {
		p.peak.Store(n)
	}
	defer p.live.Add(-1)
	var mu sync.Mutex // client writes: the server's bytes and our answers
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := server.Read(buf)
			if n > 0 {
				mu.Lock()
				client.Write(buf[:n])
				mu.Unlock()
			}
			if err != nil {
				client.Close()
				return
			}
		}
	}()
	r := bufio.NewReader(client)
	for {
		line, err := r.ReadString('\n')
		if m := notifySet.FindStringSubmatch(line); m != nil {
			p.refused.Add(1)
			mu.Lock()
			io.WriteString(client, m[1]+" NO [BADEVENT (MessageNew MessageExpunge)] FlagChange is not supported here\r\n")
			mu.Unlock()
		} else if line != "" {
			if _, werr := io.WriteString(server, line); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// TestWatchNotifyRefusedFallsBackToBudget: a server that advertises NOTIFY
// but refuses NOTIFY SET gets the connection budget instead, with the
// server's reason in the log, never more than max_connections, and every
// folder's mail filed.
func TestWatchNotifyRefusedFallsBackToBudget(t *testing.T) {
	e := newEnv(t, srv, spamRule, "")
	proxy := newNotifyRefuser(t, e.srv.Addr())
	folders, fp := watchFolders(t, e, 4, "max_connections = 2\npoll_interval = \"1s\"")
	_, fpPort := splitAddr(t, fp.Addr())
	_, refuserPort := splitAddr(t, proxy.ln.Addr().String())
	e.editConfig(t, "port      = "+fpPort+"\n", "port      = "+refuserPort+"\n")
	stop, log := e.startWatch(t)
	fileEveryFolder(t, e, folders, log, "refused")
	if code := stop(); code != 0 {
		t.Fatalf("watch exited %d after SIGTERM, want 0; log:\n%s", code, log)
	}
	if proxy.refused.Load() == 0 {
		t.Fatalf("mailrules never sent NOTIFY SET; log:\n%s", log)
	}
	if peak := proxy.peak.Load(); peak > 2 {
		t.Errorf("the server saw up to %d connections, want at most max_connections = 2", peak)
	}
	for _, want := range []string{"the server refused NOTIFY: keeping to the connection budget instead", "BADEVENT", `"polled":["F1","F2","F3"]`} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log does not say %s:\n%s", want, log)
		}
	}
}
