package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/alecthomas/kong"
)

// completionCmd prints a completion script generated from the command tree itself, so that
// it completes exactly the commands and flags this binary has.
type completionCmd struct {
	Shell string `arg:"" help:"The shell: bash, zsh or fish." enum:"bash,zsh,fish"`
}

func (c *completionCmd) Run(g *globals) error {
	tree, enums := completionTree(g.model), enumFlags(g.model)
	switch c.Shell {
	case "bash":
		return writeBash(g.stdout, tree, enums)
	case "zsh":
		return writeZsh(g.stdout, tree, enums)
	default:
		return writeFish(g.stdout, tree, enums)
	}
}

// completionNode is what a shell completes after a command path: its subcommands and flags.
type completionNode struct {
	path  string   // "credentials create"; "" for the root
	words []string // subcommands, then --flags
	help  map[string]string
}

// enumFlags maps each flag with a fixed set of values ("--output", and "-o" for its short
// form) to those values, across the whole tree (a flag name means one thing everywhere).
func enumFlags(app *kong.Application) map[string][]string {
	out := map[string][]string{}
	var walk func(n *kong.Node)
	walk = func(n *kong.Node) {
		for _, f := range n.Flags {
			if f.Enum == "" {
				continue
			}
			vals := strings.Split(f.Enum, ",")
			out["--"+f.Name] = vals
			if f.Short != 0 {
				out["-"+string(f.Short)] = vals
			}
		}
		for _, ch := range n.Children {
			walk(ch)
		}
	}
	walk(app.Node)
	return out
}

// enumCase writes the case arms that complete a flag's value after the flag.
func enumCase(b *strings.Builder, enums map[string][]string, format string) {
	for _, n := range sortedKeys(enums) {
		fmt.Fprintf(b, format, n, strings.Join(enums[n], " "))
	}
}

// completionTree walks kong's model, depth first, in path order.
func completionTree(app *kong.Application) []completionNode {
	var out []completionNode
	var walk func(n *kong.Node)
	walk = func(n *kong.Node) {
		cn := completionNode{path: n.Path(), help: map[string]string{}}
		if n.Type == kong.ApplicationNode {
			cn.path = ""
		}
		for _, ch := range n.Children {
			if ch.Hidden || ch.Type != kong.CommandNode {
				continue
			}
			cn.words = append(cn.words, ch.Name)
			cn.help[ch.Name] = ch.Help
		}
		for _, p := range n.Positional {
			if p.Enum != "" { // the values of a first argument with a fixed set (completion's shells)
				for _, v := range strings.Split(p.Enum, ",") {
					cn.words = append(cn.words, v)
					cn.help[v] = p.Help
				}
				break
			}
		}
		for _, group := range n.AllFlags(true) {
			for _, f := range group {
				w := "--" + f.Name
				cn.words = append(cn.words, w)
				cn.help[w] = f.Help
			}
		}
		out = append(out, cn)
		for _, ch := range n.Children {
			if !ch.Hidden && ch.Type == kong.CommandNode {
				walk(ch)
			}
		}
	}
	walk(app.Node)
	sort.SliceStable(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out
}

// commandWords are the nodes' paths as the scripts key them ("credentials/create").
func key(path string) string { return strings.ReplaceAll(path, " ", "/") }

// firstLine is a help text's first sentence, for fish's descriptions.
func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if i := strings.Index(s, ". "); i > 0 {
		s = s[:i]
	}
	return strings.TrimSuffix(s, ".")
}

// The bash and zsh scripts walk the words typed so far, descending into a subcommand only
// when "<path>/<word>" is a known command (a flag's value therefore never moves the path),
// then offer that command's subcommands and flags.

func writeBash(w io.Writer, tree []completionNode, enums map[string][]string) error {
	var b strings.Builder
	b.WriteString("# bash completion for keyhold (keyhold completion bash); load with: source <(keyhold completion bash)\n")
	b.WriteString("_keyhold() {\n  local cur=\"${COMP_WORDS[COMP_CWORD]}\" cmdpath=\"\" w i opts=\"\"\n")
	b.WriteString("  case \"${COMP_WORDS[COMP_CWORD-1]}\" in\n")
	enumCase(&b, enums, "    %q) COMPREPLY=($(compgen -W %q -- \"$cur\")); return ;;\n")
	b.WriteString("  esac\n")
	b.WriteString("  for ((i = 1; i < COMP_CWORD; i++)); do\n    w=\"${COMP_WORDS[i]}\"\n    case \"$cmdpath/$w\" in\n")
	writeCaseDescend(&b, tree)
	b.WriteString("    esac\n  done\n  case \"$cmdpath\" in\n")
	for _, n := range tree {
		fmt.Fprintf(&b, "    %q) opts=%q ;;\n", slashPath(n.path), strings.Join(n.words, " "))
	}
	b.WriteString("  esac\n  COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n}\ncomplete -o default -F _keyhold keyhold\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// slashPath is a node's key with a leading slash ("" for the root), as the scripts build it.
func slashPath(path string) string {
	if path == "" {
		return ""
	}
	return "/" + key(path)
}

// writeCaseDescend writes the case arms that move cmdpath one command down.
func writeCaseDescend(b *strings.Builder, tree []completionNode) {
	var arms []string
	for _, n := range tree {
		if n.path != "" {
			arms = append(arms, fmt.Sprintf("%q", slashPath(n.path)))
		}
	}
	for i := 0; i < len(arms); i += 4 {
		end := min(i+4, len(arms))
		sep := " | \\\n      "
		if end == len(arms) {
			sep = ") cmdpath=\"$cmdpath/$w\" ;;\n"
		}
		fmt.Fprintf(b, "      %s%s", strings.Join(arms[i:end], " | "), sep)
	}
}

func writeZsh(w io.Writer, tree []completionNode, enums map[string][]string) error {
	var b strings.Builder
	b.WriteString("#compdef keyhold\n# zsh completion for keyhold (keyhold completion zsh); put it in a directory of $fpath as _keyhold\n")
	b.WriteString("_keyhold() {\n  local cmdpath=\"\" w i\n  local -a opts\n")
	b.WriteString("  case \"${words[CURRENT-1]}\" in\n")
	enumCase(&b, enums, "    %q) compadd -- %s; return ;;\n")
	b.WriteString("  esac\n")
	b.WriteString("  for ((i = 2; i < CURRENT; i++)); do\n    w=\"${words[i]}\"\n    case \"$cmdpath/$w\" in\n")
	writeCaseDescend(&b, tree)
	b.WriteString("    esac\n  done\n  case \"$cmdpath\" in\n")
	for _, n := range tree {
		fmt.Fprintf(&b, "    %q) opts=(%s) ;;\n", slashPath(n.path), strings.Join(n.words, " "))
	}
	b.WriteString("  esac\n  compadd -- \"${opts[@]}\"\n}\n")
	b.WriteString("if [[ \"$funcstack[1]\" = \"_keyhold\" ]]; then\n  _keyhold \"$@\"\nelse\n  compdef _keyhold keyhold\nfi\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func writeFish(w io.Writer, tree []completionNode, enums map[string][]string) error {
	var b strings.Builder
	b.WriteString("# fish completion for keyhold (keyhold completion fish > ~/.config/fish/completions/keyhold.fish)\n")
	b.WriteString("function __keyhold_path\n  set -l cmdpath ''\n  for w in (commandline -opc)[2..-1]\n    switch \"$cmdpath/$w\"\n")
	var arms []string
	for _, n := range tree {
		if n.path != "" {
			arms = append(arms, fishQuote(slashPath(n.path)))
		}
	}
	fmt.Fprintf(&b, "      case %s\n        set cmdpath \"$cmdpath/$w\"\n", strings.Join(arms, " "))
	b.WriteString("    end\n  end\n  echo $cmdpath\nend\n")
	b.WriteString("complete -c keyhold -f\n")
	for _, n := range sortedKeys(enums) {
		if name, ok := strings.CutPrefix(n, "--"); ok {
			fmt.Fprintf(&b, "complete -c keyhold -l %s -x -a %s\n", name, fishQuote(strings.Join(enums[n], " ")))
		}
	}
	for _, n := range tree {
		cond := fmt.Sprintf("test (__keyhold_path) = %s", fishQuote(slashPath(n.path)))
		for _, word := range n.words {
			desc := fishQuote(firstLine(n.help[word]))
			if name, ok := strings.CutPrefix(word, "--"); ok {
				fmt.Fprintf(&b, "complete -c keyhold -n %s -l %s -d %s\n", fishQuote(cond), name, desc)
			} else {
				fmt.Fprintf(&b, "complete -c keyhold -n %s -a %s -d %s\n", fishQuote(cond), word, desc)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// fishQuote single-quotes a string for fish.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
