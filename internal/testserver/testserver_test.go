package testserver

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

// TestStartNoticesExit: a server that exits before it listens fails
// Start with that reason and its log, rather than after the wait for a
// connection runs out.
func TestStartNoticesExit(t *testing.T) {
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	_, err = Start("tcp", "127.0.0.1:"+itoa(port), "sh", "-c", "echo bind failed: Address already in use; exit 1")
	if err == nil || !strings.Contains(err.Error(), "the server exited before it listened") ||
		!strings.Contains(err.Error(), "log: bind failed: Address already in use") {
		t.Fatalf("Start of a server that exits: %v", err)
	}
}

// TestOnFreePortRetries: a port taken before the server bound it is
// tried again on another; any other failure is returned at once.
func TestOnFreePortRetries(t *testing.T) {
	var ports []int
	p, err := onFreePort(func(port int) (*Proc, error) {
		ports = append(ports, port)
		if len(ports) < 3 {
			return nil, errors.New("tcp 127.0.0.1:1: the server exited before it listened; log: Address already in use")
		}
		return &Proc{}, nil
	}, nil)
	if err != nil || p == nil || len(ports) != 3 {
		t.Fatalf("after two ports in use: %v, %v, %d tries", p, err, len(ports))
	}
	tries := 0
	_, err = onFreePort(func(int) (*Proc, error) { tries++; return nil, errors.New("bad flag") }, nil)
	if err == nil || err.Error() != "bad flag" || tries != 1 {
		t.Fatalf("another failure: %v after %d tries", err, tries)
	}
	_, err = onFreePort(func(int) (*Proc, error) { t.Fatal("started on a refused port"); return nil, nil },
		func(int) bool { return false })
	if err == nil {
		t.Fatal("no usable port, no error")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
