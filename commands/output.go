package commands

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter"

	"github.com/cachectl/cachectl/backends"
	"github.com/cachectl/cachectl/backends/pickle"
)

// writeValue prints one value in the chosen format. raw is the stored bytes.
func writeValue(w io.Writer, format string, v pickle.Value, raw []byte) error {
	switch format {
	case "raw":
		_, err := w.Write(raw)
		return err
	case "repr":
		_, err := fmt.Fprintln(w, pickle.Repr(v))
		return err
	case "json":
		return writeJSON(w, pickle.ToJSON(v))
	}
	// text
	if s, ok := pickle.AsString(v); ok {
		_, err := io.WriteString(w, s)
		if err == nil && !strings.HasSuffix(s, "\n") {
			_, err = io.WriteString(w, "\n")
		}
		return err
	}
	switch n := v.(type) {
	case []byte:
		_, err := w.Write(n)
		return err
	case int64:
		_, err := fmt.Fprintln(w, n)
		return err
	case *big.Int:
		_, err := fmt.Fprintln(w, n.String())
		return err
	case float64:
		_, err := fmt.Fprintln(w, pickle.Repr(n))
		return err
	}
	return writeJSON(w, pickle.ToJSON(v))
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func writeJSONIndent(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeTable prints rows under header, aligned, for people.
func writeTable(w io.Writer, header []string, rows [][]string) {
	t := tablewriter.NewWriter(w)
	t.SetHeader(header)
	t.SetAutoWrapText(false)
	t.SetAutoFormatHeaders(false)
	t.SetHeaderAlignment(tablewriter.ALIGN_LEFT)
	t.SetAlignment(tablewriter.ALIGN_LEFT)
	t.SetBorder(false)
	t.SetColumnSeparator("")
	t.SetCenterSeparator("")
	t.SetRowSeparator("")
	t.SetHeaderLine(false)
	t.SetTablePadding("  ")
	t.SetNoWhiteSpace(true)
	t.AppendBulk(rows)
	t.Render()
}

// statValue renders a statistic for a table.
func statValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "-"
	case string:
		return x
	case float64:
		if math.IsNaN(x) {
			return "-"
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// writeStats prints stats sections as a table or one JSON document.
func writeStats(w io.Writer, format string, secs []backends.StatsSection) error {
	if format == "json" {
		doc := map[string]map[string]any{}
		for _, s := range secs {
			m := map[string]any{}
			for _, f := range s.Fields {
				m[f.Name] = f.Value
			}
			doc[s.Name] = m
		}
		return writeJSONIndent(w, doc)
	}
	var rows [][]string
	for _, s := range secs {
		for _, f := range s.Fields {
			rows = append(rows, []string{s.Name, f.Name, backends.Redact(statValue(f.Value))})
		}
	}
	writeTable(w, []string{"SECTION", "STAT", "VALUE"}, rows)
	return nil
}

// lineSafe reports whether key, printed as one line, reads back as key in
// a key list on stdin (delete-many -, get-many -): no line break, no
// carriage return at its end (a list's lines may end in CRLF), not empty.
// A key "evil\nimportant" printed bare is two keys to the next command.
func lineSafe(key string) bool {
	return key != "" && !strings.ContainsRune(key, '\n') && !strings.HasSuffix(key, "\r")
}

// shownKey is key for a line that people read (a table, a dry run, an
// audit): as it is when it is valid UTF-8 with no control character, else
// quoted with Go's escapes, so that it neither splits the line nor sends
// escape sequences to the terminal.
func shownKey(key string) string {
	if key != "" && utf8.ValidString(key) && !strings.ContainsFunc(key, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return key
	}
	return strconv.Quote(key)
}
