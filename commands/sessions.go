package commands

import (
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/cachectl/cachectl/backends"
	"github.com/cachectl/cachectl/backends/pickle"
	"github.com/cachectl/cachectl/keyfunc"
)

// Cache-backed sessions (SESSION_ENGINE cache or cached_db).

var engineFlag = &cli.StringFlag{Name: "engine", Value: "cache",
	Usage: "the SESSION_ENGINE: cache (django.contrib.sessions.backends.cache) or cached_db"}

func sessionCommands() []*cli.Command {
	return []*cli.Command{
		{
			Name: "session-key", Usage: "print the cache key Django uses for a session", ArgsUsage: "SESSION_KEY",
			Flags: keyFlags(engineFlag), Action: action(cmdSessionKey),
		},
		{
			Name: "get-session", Usage: "print a cached session as JSON (user id, auth backend, data)", ArgsUsage: "SESSION_KEY",
			Flags: keyFlags(engineFlag), Action: action(cmdGetSession),
		},
		{
			Name: "delete-session", Usage: "delete cached sessions (logs them out)", ArgsUsage: "SESSION_KEY...",
			Flags: keyFlags(engineFlag), Action: actionMany(cmdDeleteSession),
		},
		{
			Name: "sessions", Usage: "list or delete the cached sessions (backends that can list keys)",
			Subcommands: []*cli.Command{
				{Name: "list", Usage: "list cached sessions, optionally of one user", Flags: keyFlags(engineFlag,
					&cli.StringFlag{Name: "user", Usage: "only sessions whose _auth_user_id is `ID`"}),
					Action: actionMany(cmdSessionsList)},
				{Name: "delete", Usage: "delete every cached session of a user (log out everywhere)", Flags: keyFlags(engineFlag,
					&cli.StringFlag{Name: "user", Required: true, Usage: "the user's `ID` (_auth_user_id)"}, yesFlag, dryRun),
					Action: actionMany(cmdSessionsDelete)},
			},
		},
	}
}

func (e *env) sessionEngine() (string, error) {
	switch eng := e.c.String("engine"); eng {
	case "cache", "django.contrib.sessions.backends.cache":
		return cacheSessions, nil
	case "cached_db", "django.contrib.sessions.backends.cached_db":
		return cachedDBSessions, nil
	default:
		return "", usagef("unknown --engine %q (choose cache or cached_db)", eng)
	}
}

// The key prefixes of Django's cache and cached_db session engines
// (each backend's KEY_PREFIX, before the session key).
const (
	cacheSessions    = "django.contrib.sessions.cache"
	cachedDBSessions = "django.contrib.sessions.cached_db"
)

// refuseCachedDBDelete refuses to delete cached_db sessions: the session
// is also a row of django_session, from which Django loads it again (and
// caches it anew) on the next request, so deleting the cache copy would
// report a logout that did not happen.
func (e *env) refuseCachedDBDelete(cmd string) error {
	eng, err := e.sessionEngine()
	if err != nil || eng != cachedDBSessions {
		return err
	}
	return &refusedError{msg: cmd + ": with --engine cached_db a session is also a row of the database's django_session table, " +
		"which Django reloads it from: deleting the cache copy would not log anyone out. Delete it through Django " +
		"(SessionStore(KEY).delete(), or Session.objects.filter(…).delete() and then this command), which clears both"}
}

func (e *env) sessionKey(sk string) (string, error) {
	eng, err := e.sessionEngine()
	if err != nil {
		return "", err
	}
	return e.key(keyfunc.SessionKey(eng, sk))
}

func cmdSessionKey(e *env) error {
	a, err := args(e.c, 1, 1, "SESSION_KEY")
	if err != nil {
		return err
	}
	k, err := e.sessionKey(a[0])
	if err != nil {
		return err
	}
	fmt.Fprintln(e.out, k)
	return nil
}

// sessionDoc renders a decoded session dict for JSON output.
func sessionDoc(sessionKey, final string, v pickle.Value) map[string]any {
	doc := map[string]any{"session_key": sessionKey, "cache_key": final, "user_id": nil, "auth_backend": nil,
		"expiry": nil, "data": pickle.ToJSON(v)}
	if d, ok := v.(*pickle.Dict); ok {
		for _, it := range d.Items {
			k, _ := pickle.AsString(it.Key)
			switch k {
			case "_auth_user_id":
				doc["user_id"] = pickle.ToJSON(it.Value)
			case "_auth_user_backend":
				doc["auth_backend"] = pickle.ToJSON(it.Value)
			case "_session_expiry":
				doc["expiry"] = pickle.ToJSON(it.Value)
			}
		}
	}
	return doc
}

func cmdGetSession(e *env) error {
	a, err := args(e.c, 1, 1, "SESSION_KEY")
	if err != nil {
		return err
	}
	k, err := e.sessionKey(a[0])
	if err != nil {
		return err
	}
	b, err := e.backend()
	if err != nil {
		return err
	}
	v, err := backends.Get(e.ctx, b, k)
	if errors.Is(err, backends.ErrCacheMiss) {
		return miss(fmt.Sprintf("no cached session %q", a[0]))
	}
	if err != nil {
		return err
	}
	return writeJSONIndent(e.out, sessionDoc(a[0], k, v))
}

func cmdDeleteSession(e *env) error {
	a, err := args(e.c, 1, -1, "SESSION_KEY...")
	if err != nil {
		return err
	}
	if err := e.refuseCachedDBDelete("delete-session"); err != nil {
		return err
	}
	b, err := e.backend()
	if err != nil {
		return err
	}
	n := 0
	for _, sk := range a {
		k, err := e.sessionKey(sk)
		if err != nil {
			return err
		}
		ok, err := b.Delete(e.ctx, k)
		if err != nil {
			return err
		}
		if ok {
			n++
		}
	}
	fmt.Fprintf(e.errw, "deleted %d of %d session(s)\n", n, len(a))
	if n == 0 {
		return miss("")
	}
	return nil
}

// walkSessions lists the session keys of the engine and calls fn with
// the decoded dict of each one whose user matches (when user != "").
func (e *env) walkSessions(user string, fn func(sk, final string, v pickle.Value) error) error {
	eng, err := e.sessionEngine()
	if err != nil {
		return err
	}
	glob, err := e.finalGlob(escapeGlob(eng) + "*")
	if err != nil {
		return err
	}
	l, err := e.lister()
	if err != nil {
		return err
	}
	b, _ := e.backend()
	undecodable := 0
	defer func() {
		if undecodable > 0 {
			fmt.Fprintf(e.errw, "cachectl: warning: %d cached session(s) could not be decoded and were left alone (inspect shows why)\n", undecodable)
		}
	}()
	return backends.NamesOnly(l).List(e.ctx, glob, func(ki backends.KeyInfo) error {
		v, err := backends.Get(e.ctx, b, ki.Key)
		if errors.Is(err, backends.ErrCacheMiss) {
			return nil
		}
		if errors.Is(err, backends.ErrDecode) {
			// One corrupt entry must not keep a user's other sessions
			// from being listed or logged out; whose it is cannot be told.
			undecodable++
			return nil
		}
		if err != nil {
			return err
		}
		uk, _, _ := e.userKey(ki.Key)
		if eng == cacheSessions && strings.HasPrefix(uk, cachedDBSessions) {
			// "django.contrib.sessions.cache*" matches the cached_db
			// engine's keys too; a session key holds no "_", so none of
			// the cache engine's starts with "d_db".
			return nil
		}
		sk := strings.TrimPrefix(uk, eng)
		if user != "" {
			doc := sessionDoc(sk, ki.Key, v)
			if id := doc["user_id"]; id == nil || fmt.Sprint(id) != user {
				return nil // a session with no user is no user's, "<nil>"'s neither
			}
		}
		return fn(sk, ki.Key, v)
	})
}

func cmdSessionsList(e *env) error {
	if _, err := args(e.c, 0, 0, ""); err != nil {
		return err
	}
	n := 0
	err := e.walkSessions(e.c.String("user"), func(sk, final string, v pickle.Value) error {
		n++
		d := sessionDoc(sk, final, v)
		delete(d, "data")
		return writeJSON(e.out, d)
	})
	if err != nil {
		return err
	}
	if n == 0 {
		return miss("")
	}
	return nil
}

func cmdSessionsDelete(e *env) error {
	if _, err := args(e.c, 0, 0, "--user ID"); err != nil {
		return err
	}
	if err := e.refuseCachedDBDelete("sessions delete"); err != nil {
		return err
	}
	user := e.c.String("user")
	var finals []string
	if err := e.walkSessions(user, func(_, final string, _ pickle.Value) error {
		finals = append(finals, final)
		return nil
	}); err != nil {
		return err
	}
	if e.c.Bool("dry-run") {
		for _, f := range finals {
			fmt.Fprintln(e.out, f)
		}
		fmt.Fprintf(e.errw, "dry run: %d session(s) of user %s would be deleted\n", len(finals), user)
		if len(finals) == 0 {
			return miss("") // as the real run: exit 1 when the user has none
		}
		return nil
	}
	if len(finals) == 0 {
		fmt.Fprintf(e.errw, "no cached session of user %s\n", user)
		return miss("")
	}
	if err := e.confirm(fmt.Sprintf("delete %d session(s) of user %s", len(finals), user)); err != nil {
		return err
	}
	b, _ := e.backend()
	n, err := backends.DeleteMany(e.ctx, b, finals)
	if n < 0 {
		n = len(finals)
	}
	fmt.Fprintf(e.errw, "deleted %d of %d session(s) of user %s\n", n, len(finals), user)
	return err
}
