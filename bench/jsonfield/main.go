// Command jsonfield prints fields of a JSON object read from standard input, one per line,
// so bench/run.sh can read keyhold's first-start line and token responses without jq.
//
// Usage: jsonfield [-first-object] FIELD...
//
// With -first-object, input lines that do not start with '{' are skipped and the first line
// that does is decoded (keyhold's stdout may carry other lines). Without it, the whole input
// is one JSON object. Each FIELD must exist and be a string, number or boolean; otherwise
// jsonfield names the field on standard error and exits 1.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	first := flag.Bool("first-object", false, "decode the first input line that starts with '{'")
	flag.Parse()
	if err := run(os.Stdin, os.Stdout, *first, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "jsonfield:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer, firstObject bool, fields []string) error {
	if len(fields) == 0 {
		return fmt.Errorf("no field named")
	}
	data, err := readInput(in, firstObject)
	if err != nil {
		return err
	}
	var obj map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil {
		return fmt.Errorf("input is not a JSON object: %v", err)
	}
	var b strings.Builder
	for _, f := range fields {
		v, ok := obj[f]
		if !ok {
			return fmt.Errorf("field %q missing", f)
		}
		var s string
		switch v := v.(type) {
		case string:
			s = v
		case json.Number:
			s = v.String()
		case bool:
			s = fmt.Sprint(v)
		default:
			return fmt.Errorf("field %q is not a string, number or boolean", f)
		}
		if strings.ContainsAny(s, "\r\n") {
			return fmt.Errorf("field %q contains a line break", f)
		}
		b.WriteString(s)
		b.WriteByte('\n')
	}
	_, err = io.WriteString(out, b.String())
	return err
}

func readInput(in io.Reader, firstObject bool) ([]byte, error) {
	if !firstObject {
		return io.ReadAll(in)
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) > 0 && line[0] == '{' {
			return append([]byte(nil), line...), nil
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("no line starting with '{' in input")
}
