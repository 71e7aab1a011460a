package commands

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestWritePrivateFileAcrossFileSystems: config import writes its file
// through a temporary file beside the target, so an --output on another
// file system than the current directory (tmpfs /dev/shm here) works, with
// mode 0600 and nothing else left behind.
func TestWritePrivateFileAcrossFileSystems(t *testing.T) {
	var cwd, shm syscall.Stat_t
	if syscall.Stat(".", &cwd) != nil || syscall.Stat("/dev/shm", &shm) != nil || cwd.Dev == shm.Dev {
		t.Skip("needs /dev/shm on another file system than the package directory")
	}
	dir, err := os.MkdirTemp("/dev/shm", "cachectl-import-test-")
	if err != nil {
		t.Skipf("/dev/shm not writable: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	out := filepath.Join(dir, "c.json")
	if err := writePrivateFile(out, []byte("{}\n")); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(out)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("stat %s: %v, mode %v (want 0600)", out, err, st.Mode())
	}
	if b, _ := os.ReadFile(out); string(b) != "{}\n" {
		t.Errorf("wrote %q", b)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".cachectl-import-*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
