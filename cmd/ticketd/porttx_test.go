package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
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
