package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Only the stores, the engine (its transaction runner), cmd (the wiring)
// and core itself name the whole store transaction, core.Tx: every other
// package (the plug-ins, the dispatcher, bot, connectors) sees the ports
// of its own concern.
func TestWholeTxNamedOnlyByStorageAndEngine(t *testing.T) {
	allowed := []string{"storage/", "core/engine/", "cmd/"}
	root := "../.."
	fset := token.NewFileSet()
	var found []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") || !strings.Contains(rel, "/") {
			return nil
		}
		for _, a := range allowed {
			if strings.HasPrefix(rel, a) {
				return nil
			}
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		inCore := f.Name.Name == "core" && filepath.ToSlash(filepath.Dir(rel)) == "core"
		ast.Inspect(f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.SelectorExpr:
				if id, ok := x.X.(*ast.Ident); ok && id.Name == "core" && x.Sel.Name == "Tx" {
					found = append(found, fset.Position(x.Pos()).String())
				}
			case *ast.Ident:
				if inCore && x.Name == "Tx" {
					return false // core defines and composes it
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range found {
		t.Errorf("%s names core.Tx: give it the port of its concern instead", f)
	}
}

// Each plug-in reaches the store through the ports of its own concern on
// core.Change, never another plug-in's: the SLA clocks never read the
// reminder port, the reminders never the SLA port, the rules neither.
func TestPluginsUseTheirOwnPorts(t *testing.T) {
	ports := []string{"SLA", "SLAConfig", "Reminders", "ReminderPolicy", "Tickets", "Outbox"}
	own := map[string][]string{
		"core/sla":        {"SLA", "SLAConfig"},
		"core/remind":     {"Reminders", "ReminderPolicy", "Tickets", "Outbox"},
		"core/automation": {},
	}
	fset := token.NewFileSet()
	for dir, allowed := range own {
		files, err := filepath.Glob(filepath.Join("../..", dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no Go files (%v)", dir, err)
		}
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if name := sel.Sel.Name; slices.Contains(ports, name) && !slices.Contains(allowed, name) {
					t.Errorf("%s: %s calls %s, another concern's port", fset.Position(call.Pos()), dir, name)
				}
				return true
			})
		}
	}
}
