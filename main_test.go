package main

import (
	"context"
	"encoding/hex"
	"flag"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	_ "github.com/cachectl/cachectl/backends/all"
	"github.com/cachectl/cachectl/commands"
	"github.com/cachectl/cachectl/internal/testserver"
)

var update = flag.Bool("update", false, "update testscript expectations in place")

// stopServers runs the tests, then stops the servers they started.
type stopServers struct{ m *testing.M }

func (s stopServers) Run() int {
	code := s.m.Run()
	testserver.StopAll()
	return code
}

func TestMain(m *testing.M) {
	scriptServers["redis"] = func(t testing.TB) (map[string]string, error) {
		return map[string]string{"REDIS_ADDR": testserver.SharedRedis(t)}, nil
	}
	scriptServers["memcached"] = func(t testing.TB) (map[string]string, error) {
		return map[string]string{"MC1": sharedMemcached(t, 0), "MC2": sharedMemcached(t, 1), "MC3": sharedMemcached(t, 2)}, nil
	}
	testscript.Main(stopServers{m}, map[string]func(){
		"cachectl": func() {
			// As main.go does: SIGINT and SIGTERM cancel the command (exit 130).
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			code := commands.Run(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr)
			stop()
			os.Exit(code)
		},
	})
}

// scriptServers are set up once per test binary and exported to scripts.
var scriptServers = map[string]func(t testing.TB) (map[string]string, error){}

// needs is the servers each script family uses.
var needs = map[string][]string{"redis": {"redis"}, "memcached": {"memcached"}}

// params builds the testscript parameters for one family directory.
func params(t *testing.T, dir string) testscript.Params {
	return testscript.Params{
		Dir:                 filepath.Join("testscripts", dir),
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       *update,
		Setup: func(env *testscript.Env) error {
			home := filepath.Join(env.WorkDir, ".home")
			if err := os.MkdirAll(home, 0o755); err != nil {
				return err
			}
			env.Setenv("HOME", home)
			env.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
			env.Setenv("XDG_CACHE_HOME", filepath.Join(home, ".cache"))
			env.Setenv("PYTHON", "/usr/bin/python3")
			for _, name := range needs[dir] {
				start, ok := scriptServers[name]
				if !ok {
					continue
				}
				vars, err := start(t)
				if err != nil {
					return err
				}
				for k, v := range vars {
					env.Setenv(k, v)
				}
			}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// cmphex FILE HEX: the file's bytes equal the hex string.
			"cmphex": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 2 {
					ts.Fatalf("usage: cmphex FILE HEX")
				}
				got := hex.EncodeToString([]byte(ts.ReadFile(args[0])))
				if (got == args[1]) == neg {
					ts.Fatalf("%s is %s, want %s", args[0], got, args[1])
				}
			},
			// django SCRIPT [ARGS...]: run /usr/bin/python3 SCRIPT with Django importable.
			"django": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) < 1 {
					ts.Fatalf("usage: django SCRIPT [ARGS...]")
				}
				err := ts.Exec("/usr/bin/python3", args...)
				if (err != nil) != neg {
					ts.Fatalf("django %v: %v", args, err)
				}
			},
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "django":
				err := exec.Command("/usr/bin/python3", "-c", "import django").Run()
				if err != nil && os.Getenv("CI") == "true" {
					return false, err
				}
				return err == nil, nil
			case "root":
				return os.Geteuid() == 0, nil
			}
			if strings.HasPrefix(cond, "server:") {
				_, ok := scriptServers[strings.TrimPrefix(cond, "server:")]
				return ok, nil
			}
			return false, &unknownCondition{cond}
		},
	}
}

type unknownCondition struct{ name string }

func (u *unknownCondition) Error() string { return "unknown condition " + u.name }

func TestScriptsKeys(t *testing.T)      { testscript.Run(t, params(t, "keys")) }
func TestScriptsFile(t *testing.T)      { testscript.Run(t, params(t, "file")) }
func TestScriptsDummy(t *testing.T)     { testscript.Run(t, params(t, "dummy")) }
func TestScriptsFragments(t *testing.T) { testscript.Run(t, params(t, "fragments")) }
func TestScriptsAdmin(t *testing.T)     { testscript.Run(t, params(t, "admin")) }
func TestScriptsErrors(t *testing.T)    { testscript.Run(t, params(t, "errors")) }
func TestScriptsSessions(t *testing.T)  { testscript.Run(t, params(t, "sessions")) }

func TestScriptsRedis(t *testing.T)     { testscript.Run(t, params(t, "redis")) }
func TestScriptsMemcached(t *testing.T) { testscript.Run(t, params(t, "memcached")) }
func TestScriptsDB(t *testing.T)        { testscript.Run(t, params(t, "db")) }
func TestScriptsPages(t *testing.T)     { testscript.Run(t, params(t, "pages")) }
func TestScriptsLegacy(t *testing.T)    { testscript.Run(t, params(t, "legacy")) }
func TestScriptsAudit(t *testing.T)     { testscript.Run(t, params(t, "audit")) }

var (
	mcOnce  sync.Once
	mcAddrs [3]string
)

// sharedMemcached starts three memcached servers once per test binary; the
// scripts use distinct KEY_PREFIXes and never flush servers they share
// with another script.
func sharedMemcached(t testing.TB, i int) string {
	mcOnce.Do(func() {
		for j := range mcAddrs {
			mcAddrs[j] = testserver.Memcached(t)
		}
	})
	return mcAddrs[i]
}
