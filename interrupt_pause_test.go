package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/testserver"
)

// TestInterruptGetDuringRedisPause: a SIGINT while Redis stalls (CLIENT
// PAUSE, 120 s) ends `get` at once with exit 130; go-redis alone would
// wait out the pause or the socket timeout and print the value, exit 0.
func TestInterruptGetDuringRedisPause(t *testing.T) {
	addr := testserver.Redis(t)
	p := testserver.NewHoldProxy(t, addr)
	url := "redis://" + p.Addr + "/0"
	fill(t, url, 1)
	admin, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	admin.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := admin.Write([]byte("CLIENT PAUSE 120000 ALL\r\n")); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(admin).ReadString('\n'); err != nil || !strings.HasPrefix(line, "+OK") {
		t.Fatalf("CLIENT PAUSE: %q, %v", line, err)
	}
	sent := make(chan struct{})
	// A new process connects: its HELLO is what the pause holds.
	p.OnRequest("$5\r\nhello\r\n", func() { close(sent) })
	c := startChild(t, "-C", url, "--deadline", "10m", "get", "k0")
	select {
	case <-sent:
	case err := <-c.done:
		t.Fatalf("get ended (%v) before sending to Redis; stderr:\n%s", err, c.stderr.String())
	case <-time.After(guard):
		t.Fatalf("get sent nothing to Redis within %s; stderr:\n%s", guard, c.stderr.String())
	}
	code := c.interrupt()
	if code != 130 {
		t.Fatalf("exit %d after SIGINT during the pause, want 130; stdout %q, stderr:\n%s", code, c.stdout.String(), c.stderr.String())
	}
	if c.stdout.Len() != 0 {
		t.Errorf("get printed %q after the interrupt", c.stdout.String())
	}
	if s := c.stderr.String(); !strings.Contains(s, "cachectl: interrupted") || strings.Contains(s, "context canceled") {
		t.Errorf("stderr:\n%s\nwant cachectl: interrupted, no context canceled", s)
	}
}

// stuckCommand stands for a command that does not stop after an interrupt
// (a server it waits for, a bug): it says so on stderr, then blocks.
func stuckCommand(ctx context.Context, _ []string, _ io.Reader, _, stderr io.Writer) int {
	fmt.Fprintln(stderr, "waiting")
	<-ctx.Done()
	fmt.Fprintln(stderr, "stuck after the interrupt")
	select {}
}

// TestSecondInterruptKills: after the first SIGINT the default signal
// behaviour is back, so a second one kills a command that is stuck.
func TestSecondInterruptKills(t *testing.T) {
	c := startChildEnv(t, []string{"CACHECTL_TEST_STUCK=1"}, "get", "k")
	c.waitStderr("the command to start", "waiting")
	if err := c.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	c.waitStderr("the first interrupt", "stuck after the interrupt")
	if err := c.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.done:
	case <-time.After(guard):
		t.Fatalf("still running %s after the second SIGINT; stderr:\n%s", guard, c.stderr.String())
	}
	ws, ok := c.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGINT {
		t.Errorf("child ended with %v, want killed by SIGINT", c.cmd.ProcessState)
	}
}
