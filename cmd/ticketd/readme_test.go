package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestREADMECommands runs the ticketd commands of README.md's code blocks in
// order, as a new user pastes them: from the repository's root, on one fresh
// embedded database with a server on it (on a free port: TICKETD_URL stands
// in for the default 127.0.0.1:8080). A command that fails there fails here,
// and so does an example file in deploy/examples that no command uses.
func TestREADMECommands(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	cmds := readmeCommands(t, filepath.Join(root, "README.md"))
	data := filepath.Join(t.TempDir(), "data")
	url, _ := startServer(t, map[string]string{"TICKETD_DATA_DIR": data})
	envs := map[string]string{"TICKETD_DATA_DIR": data, "TICKETD_URL": url}
	t.Chdir(root)
	used := map[string]bool{}
	ran := 0
	for _, c := range cmds {
		switch c.args[0] {
		case "serve", "mailgate", "discord": // the server above; a pipe for the MTA; Discord's API
			continue
		}
		ran++
		code, out, errs := ticketd(t, envs, c.args...)
		if code != 0 {
			t.Errorf("README.md:%d: ticketd %s: exit %d\n%s%s", c.line, strings.Join(c.args, " "), code, out, errs)
			continue
		}
		// The first token printed is the one README exports as TICKETD_TOKEN.
		if len(c.args) > 1 && slices.Equal(c.args[:2], []string{"admin", "token"}) && envs["TICKETD_TOKEN"] == "" {
			envs["TICKETD_TOKEN"] = strings.TrimSpace(strings.SplitN(out, "\n", 2)[0])
		}
		for _, a := range c.args {
			used[filepath.Clean(a)] = true
		}
	}
	t.Logf("ran %d ticketd commands of README.md", ran)
	examples, err := filepath.Glob(filepath.Join("deploy", "examples", "*"))
	if err != nil || len(examples) == 0 {
		t.Fatalf("no example files in deploy/examples: %v", err)
	}
	for _, f := range examples {
		if !used[f] {
			t.Errorf("%s: no command in README.md uses it", f)
		}
	}
}

// TestExampleLifecycle: the change lifecycle README points to, stored with
// `admin lifecycle put`, takes a ticket through its statuses with the verbs
// people type; approving a change needs AdminQueue.
func TestExampleLifecycle(t *testing.T) {
	envs := map[string]string{"TICKETD_DATA_DIR": filepath.Join(t.TempDir(), "data")}
	file := filepath.Join("..", "..", "deploy", "examples", "lifecycle-change.json")
	if out := mustRun(t, envs, "admin", "lifecycle", "put", file); !strings.Contains(out, "lifecycle change stored") {
		t.Fatalf("lifecycle put said %q", out)
	}
	mustRun(t, envs, "admin", "queue", "create", "Changes", "--lifecycle", "change")
	mustRun(t, envs, "admin", "user", "create", "alice", "--email", "alice@example.net", "--privileged")
	url, _ := startServer(t, map[string]string{"TICKETD_DATA_DIR": envs["TICKETD_DATA_DIR"]})
	token := func(user string) string {
		return strings.TrimSpace(strings.SplitN(mustRun(t, envs, "admin", "token", "--user", user), "\n", 2)[0])
	}
	alice := map[string]string{"TICKETD_URL": url, "TICKETD_TOKEN": token("alice")}
	root := map[string]string{"TICKETD_URL": url, "TICKETD_TOKEN": token("root")}
	if out := mustRun(t, alice, "ticket", "new", "Changes", "upgrade core1"); !strings.Contains(out, "[requested]") {
		t.Fatalf("new: %s", out)
	}
	if code, _, errs := ticketd(t, alice, "ticket", "open", "1"); code == 0 || !strings.Contains(errs, "AdminQueue") {
		t.Errorf("alice approved a change without AdminQueue: exit %d %s", code, errs)
	}
	for _, step := range []struct{ verb, status string }{
		{"open", "approved"}, {"stall", "scheduled"}, {"open", "approved"}, {"resolve", "done"},
		{"reopen", "requested"}, {"reject", "rejected"},
	} {
		if out := mustRun(t, root, "ticket", step.verb, "1"); !strings.Contains(out, "["+step.status+"]") {
			t.Errorf("%s: want [%s], got %s", step.verb, step.status, out)
		}
	}
}

type readmeCommand struct {
	line int
	args []string // after "ticketd" or "./bin/ticketd"
}

// readmeCommands reads the lines of the file's fenced code blocks that start
// with ticketd or ./bin/ticketd, joining continued lines and dropping # comments.
func readmeCommands(t *testing.T, path string) []readmeCommand {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cmds []readmeCommand
	var fenced bool
	var cont string
	start := 0
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced, cont = !fenced, ""
			continue
		}
		if !fenced {
			continue
		}
		if cont == "" {
			if !strings.HasPrefix(line, "ticketd ") && !strings.HasPrefix(line, "./bin/ticketd ") {
				continue
			}
			start = n
		}
		if strings.HasSuffix(line, `\`) {
			cont += strings.TrimSuffix(line, `\`) + " "
			continue
		}
		line, cont = cont+line, ""
		words, err := shellWords(line)
		if err != nil {
			t.Fatalf("README.md:%d: %v", start, err)
		}
		if len(words) > 1 {
			cmds = append(cmds, readmeCommand{start, words[1:]})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(cmds) == 0 {
		t.Fatalf("%s: no ticketd commands found", path)
	}
	return cmds
}

// shellWords splits a command line as sh does for the quoting README uses:
// 'single', "double" with \" and \\, a backslash outside quotes, and a #
// that starts a word beginning a comment.
func shellWords(line string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words, inWord = append(words, w.String()), false
				w.Reset()
			}
		case c == '#' && !inWord:
			return words, nil
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unterminated ' in %q", line)
			}
			w.WriteString(line[i+1 : i+1+j])
			i, inWord = i+1+j, true
		case c == '"':
			i++
			for ; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' && i+1 < len(line) && (line[i+1] == '"' || line[i+1] == '\\') {
					i++
				}
				w.WriteByte(line[i])
			}
			if i == len(line) {
				return nil, fmt.Errorf("unterminated \" in %q", line)
			}
			inWord = true
		case c == '\\' && i+1 < len(line):
			i++
			w.WriteByte(line[i])
			inWord = true
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}
