package commands

import (
	"io"
	"strings"

	"github.com/urfave/cli/v2"
)

// examples are each command's lines for its --help, run against a cache
// given with -C (a URL) or CACHECTL_CACHE; helpFooter adds them and the
// exit codes to every command's description.
var examples = map[string][]string{
	"get":               {"cachectl -C 'redis://127.0.0.1:6379/0' get cart:42", "cachectl get --format json --version 2 cart:42"},
	"set":               {"cachectl set greeting hello --timeout 600", "cachectl set cart:42 --type json '{\"items\": [1, 2]}'", "cachectl set blob - --type bytes < file.bin"},
	"add":               {"cachectl add lock:job1 1 --timeout 30 || echo 'already held'"},
	"get-or-set":        {"cachectl get-or-set banner 'hello' --timeout 3600"},
	"delete":            {"cachectl delete cart:42"},
	"touch":             {"cachectl touch session:abc --timeout 1800"},
	"has-key":           {"cachectl has-key cart:42 && echo cached"},
	"incr":              {"cachectl incr hits --delta 5"},
	"decr":              {"cachectl decr stock:7"},
	"ttl":               {"cachectl ttl cart:42"},
	"make-key":          {"cachectl -C 'filecache:///var/tmp/django_cache?key_prefix=site1&version=2' make-key cart:42"},
	"get-many":          {"cachectl get-many cart:1 cart:2", "cut -f1 keys.tsv | cachectl get-many - > values.json"},
	"set-many":          {"cachectl set-many items.jsonl     # {\"key\": \"a\", \"value\": 1} per line", "echo '{\"a\": 1, \"b\": [2]}' | cachectl set-many - --timeout 60"},
	"delete-many":       {"cachectl delete-many cart:1 cart:2", "cachectl keys 'cart:*' --quiet | cachectl delete-many -"},
	"incr-version":      {"cachectl incr-version cart:42", "cachectl incr-version --stdin < keys.txt"},
	"decr-version":      {"cachectl decr-version cart:42 --delta 1"},
	"purge-version":     {"cachectl purge-version 1 --dry-run", "cachectl purge-version 1 --yes --rate 5000"},
	"make-fragment-key": {"cachectl make-fragment-key sidebar alice en"},
	"delete-fragment":   {"cachectl delete-fragment sidebar alice en", "cachectl delete-fragment sidebar --stdin < vary-lists.jsonl"},
	"page-key":          {"cachectl page-key https://example.com/blog/ --lang en-us --tz UTC -H 'Accept-Encoding=gzip, br'"},
	"invalidate-page":   {"cachectl invalidate-page https://example.com/blog/ --lang en-us --tz UTC", "cachectl invalidate-page --stdin --lang en-us --tz UTC < urls.txt"},
	"keys":              {"cachectl keys 'cart:*'", "cachectl keys 'cart:*' --json | jq -r .stored_key"},
	"delete-pattern":    {"cachectl delete-pattern 'cart:*' --dry-run", "cachectl delete-pattern 'cart:*' --yes --rate 10000"},
	"session-key":       {"cachectl session-key abc123"},
	"get-session":       {"cachectl get-session abc123", "cachectl get-session abc123 --engine cached_db"},
	"delete-session":    {"cachectl delete-session abc123"},
	"sessions list":     {"cachectl sessions list"},
	"sessions delete":   {"cachectl sessions delete --dry-run", "cachectl sessions delete --yes"},
	"createcachetable":  {"cachectl --config cachectl.json createcachetable", "cachectl -C dbcache://my_cache_table --database postgres://u@db/site createcachetable --dry-run"},
	"prune-expired":     {"cachectl -C 'postgres://u@db/site?table=my_cache_table' prune-expired"},
	"inspect":           {"cachectl inspect cart:42", "cachectl inspect --audit cart:42"},
	"scan-audit":        {"cachectl scan-audit 'cart:*'"},
	"clear":             {"cachectl clear --dry-run", "cachectl clear --prefix --yes", "cachectl clear --yes"},
	"stats":             {"cachectl stats", "cachectl stats --json --exact"},
	"ping":              {"cachectl -C 'memcached://10.0.0.5:11211' ping"},
	"config show":       {"cachectl --config cachectl.json -a default config show --json"},
	"config import":     {"cachectl config import --settings mysite.settings -o cachectl.json"},
}

// exitCodesLine is the exit codes in one line, for every command's help.
const exitCodesLine = "Exit codes: 0 success, 1 miss or false, 2 usage, 3 unreachable or failed, 4 value not decodable,\n" +
	"5 not supported by the backend, 6 refused, 130 interrupted (cachectl --help explains them)."

// The footer is added when a command's help is printed, not when the app
// is built: every run builds it, and a one-key command must start fast
// (the text for every command doubled New's time).
func init() {
	print := cli.HelpPrinter
	cli.HelpPrinter = func(w io.Writer, templ string, data any) {
		if c, ok := data.(*cli.Command); ok {
			helpFooter(c, strings.TrimPrefix(c.HelpName, "cachectl "))
		}
		print(w, templ, data)
	}
}

// helpFooter adds cmd's examples and the exit codes to its description,
// once.
func helpFooter(cmd *cli.Command, path string) {
	if cmd.Action == nil || path == "help" || strings.Contains(cmd.Description, exitCodesLine) {
		return
	}
	for _, sub := range cmd.Subcommands {
		if sub.Name != "help" { // urfave/cli gives every command a help subcommand by then
			return
		}
	}
	var b strings.Builder
	b.WriteString(strings.TrimRight(cmd.Description, "\n"))
	if ex := examples[path]; len(ex) > 0 {
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString("Examples:\n")
		for _, e := range ex {
			b.WriteString("\n   " + e)
		}
	}
	if b.Len() > 0 {
		b.WriteString("\n\n")
	}
	b.WriteString(exitCodesLine)
	cmd.Description = b.String()
}
