package imap

import (
	"io"
	"runtime"
	"strings"
	"testing"
)

// TestIdleClientMemory measures what a logged-in Client that waits costs
// in Go heap (buffers, maps, state), the part of a watching connection's
// RSS mailrules controls: with 1,000 accounts it is paid a thousand times.
func TestIdleClientMemory(t *testing.T) {
	const n = 300
	greeting := "* OK [CAPABILITY IMAP4rev1 IDLE NOTIFY LITERAL+] ready\r\n"
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	clients := make([]*Client, n)
	for i := range clients {
		c, err := New(rwc{strings.NewReader(greeting), io.Discard}, nil)
		if err != nil {
			t.Fatal(err)
		}
		clients[i] = c
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := (after.HeapInuse - before.HeapInuse) / n
	runtime.KeepAlive(clients)
	t.Logf("heap per idle client: %d bytes (read buffer %d, write buffer %d)", per, idleReadBuffer, writeBuffer)
	// 64 KiB + 16 KiB buffers made this about 82 KB; the small ones keep
	// it under 16 KiB.
	if per > 16<<10 {
		t.Errorf("an idle Client holds %d bytes of heap, want under 16 KiB", per)
	}
}
