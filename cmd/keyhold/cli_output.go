package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// column is one column of a table: its title and the dotted path of the JSON member shown.
type column struct{ title, path string }

// cols builds columns from "TITLE=path" pairs.
func cols(specs ...string) []column {
	out := make([]column, len(specs))
	for i, s := range specs {
		t, p, _ := strings.Cut(s, "=")
		out[i] = column{t, p}
	}
	return out
}

// printer writes what a command answers: a table for people, or JSON for scripts.
type printer struct {
	w    io.Writer
	json bool
}

// list prints objects: one JSON array, or a table with one row each.
func (p printer) list(items []object, columns []column) error {
	if p.json {
		return p.printJSON(items)
	}
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 4, 2, ' ', 0)
	titles := make([]string, len(columns))
	for i, c := range columns {
		titles[i] = c.title
	}
	fmt.Fprintln(tw, strings.Join(titles, "\t"))
	for _, it := range items {
		cells := make([]string, len(columns))
		for i, c := range columns {
			cells[i] = cell(lookup(it, c.path))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return p.flush(tw, &buf)
}

// flush writes a table without the padding tabwriter leaves after an empty last cell.
func (p printer) flush(tw *tabwriter.Writer, buf *bytes.Buffer) error {
	if err := tw.Flush(); err != nil {
		return err
	}
	lines := strings.SplitAfter(buf.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \n")
		if strings.HasSuffix(l, "\n") {
			lines[i] += "\n"
		}
	}
	_, err := io.WriteString(p.w, strings.Join(lines, ""))
	return err
}

// one prints one object: JSON as is, or its columns as "TITLE: value" lines.
func (p printer) one(o object, columns []column) error {
	if p.json {
		return p.printJSON(o)
	}
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 4, 2, ' ', 0)
	for _, c := range columns {
		fmt.Fprintf(tw, "%s:\t%s\n", c.title, cell(lookup(o, c.path)))
	}
	return p.flush(tw, &buf)
}

// done prints the outcome of a call that answers nothing (a delete): a line for people,
// {"id": ..., "result": ...} for scripts.
func (p printer) done(what, id string) error {
	if p.json {
		return p.printJSON(object{"id": id, "result": what})
	}
	_, err := fmt.Fprintf(p.w, "%s %s\n", what, id)
	return err
}

func (p printer) printJSON(v any) error {
	enc := json.NewEncoder(p.w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// lookup follows a dotted path into a decoded JSON value ("" is the value itself).
func lookup(v any, path string) any {
	if path == "" {
		return v
	}
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// cell writes a JSON value in a table cell: strings bare, lists comma-separated, objects as
// compact JSON, control characters escaped (a name may hold anything the API accepts, and a
// terminal must not interpret it).
func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return clean(x)
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = cell(e)
		}
		return strings.Join(parts, ",")
	default:
		b, _ := json.Marshal(x)
		return clean(string(b))
	}
}

// clean quotes a string holding control characters or tabs, so that it stays on its cell.
func clean(s string) string {
	if strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) }) {
		return strconv.Quote(s)
	}
	return s
}
