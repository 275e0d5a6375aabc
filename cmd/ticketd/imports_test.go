package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// Import direction, from DESIGN.md: cmd -> connectors -> bot -> core, cmd -> storage -> core.
//
// Paths below are relative to the module root. A pattern names a package and everything
// under it ("storage" is storage/...); "*" is every package of the module. A package may
// always import packages of its own unit (core/x -> core, connectors/slack/x ->
// connectors/slack, storage/postgres -> storage/postgres/x, cmd/a -> cmd/b), so the rules
// only speak about imports across units: core/engine/enginetest, the engine's behaviour
// suite, is of core/engine's unit and imports the engine; it is a core package all the same
// (standard library only, no storage).
//
// Production imports are checked transitively (an import through any package of the module
// counts). Imports of _test.go files are checked too, except for rules marked prodOnly.
var importRules = []importRule{
	{from: "core", exact: true, deny: []string{"*"}, stdlibOnly: true,
		why: "core imports nothing of this module and only the standard library"},
	{from: "core", except: []string{"core"}, deny: []string{"bot", "connectors", "storage", "cmd"}, stdlibOnly: true,
		why: "a core subsystem imports core and subsystems below it, and only the standard library"},
	{from: "storage", deny: []string{"core/engine"}, prodOnly: true,
		why: "stores implement core's ports and never see the engine (storetest neither: the engine suite is core/engine/enginetest)"},
	{from: "core", except: []string{"core"}, deny: []string{"core/engine"},
		why: "the engine is on top of core: none of core's policies or plug-ins imports it"},
	{from: "core/sla", deny: []string{"core/engine", "core/dispatch", "core/alerts", "core/rules", "core/search", "core/mail", "core/wire"},
		why: "the SLA clocks see core's vocabulary and ports only, through core.Change: no other subsystem"},
	{from: "core/automation", deny: []string{"core/engine", "core/dispatch", "core/alerts", "core/search", "core/sla", "core/remind", "core/mail", "core/wire"},
		why: "the automation rules see core's vocabulary and ports through core.Change, and the compiled rules (core/rules): no other subsystem"},
	{from: "core/rules", deny: []string{"core/engine", "core/automation", "core/dispatch", "core/alerts", "core/search", "core/sla", "core/remind", "core/wire"},
		why: "the rules language is data: it imports core only"},
	{from: "core/mail", deny: []string{"core/engine", "core/dispatch", "core/alerts", "core/rules", "core/search", "core/sla", "core/remind", "core/automation", "core/wire"},
		why: "mail routing is a policy over core's vocabulary: it imports core only"},
	{from: "core/account", deny: []string{"core/engine", "core/dispatch", "core/alerts", "core/rules", "core/search", "core/sla", "core/remind", "core/automation", "core/mail", "core/wire"},
		why: "the accounts see core's vocabulary and their own port: no other subsystem, not the engine"},
	{from: "core/remind", deny: []string{"core/engine", "core/dispatch", "core/alerts", "core/rules", "core/search", "core/sla", "core/automation", "core/wire"},
		why: "the reminders and digests see core's vocabulary and ports through core.Change, and mail routing for the digest mail: no other subsystem"},
	{from: "core/report", deny: []string{"core/engine", "core/dispatch", "core/alerts", "core/rules", "core/search", "core/sla", "core/remind", "core/automation", "core/mail", "core/account", "core/wire"},
		why: "reports see core's vocabulary and their own read-only port: the engine resolves the search and the viewer's visibility for them"},
	{from: "core", except: []string{"core/wire", "core/engine/enginetest"}, deny: []string{"core/wire"}, prodOnly: true,
		why: "core/wire is the plug-ins' wiring: cmd and the tests (enginetest) use it, no subsystem does"},
	{from: "core/dispatch", deny: []string{"core/engine"},
		why: "the dispatcher sees the store's delivery port, never the engine"},
	{from: "core/engine", except: []string{"core/engine/enginetest"}, deny: []string{"core/dispatch"},
		why: "the engine writes the outbox; it never calls the dispatcher (cmd wakes it; the engine suite plays cmd)"},
	{from: "bot", deny: []string{"connectors"},
		why: "bot never imports connectors"},
	{from: "bot", deny: []string{"storage"}, prodOnly: true,
		why: "bot never imports storage (its tests may: storage is tested for real, never mocked)"},
	{from: "connectors", deny: []string{"connectors"},
		why: "no connector imports another connector"},
	{from: "connectors", deny: []string{"storage"}, prodOnly: true,
		why: "no connector imports storage (their tests may: they run against real stores)"},
	{from: "storage", deny: []string{"bot", "connectors"},
		why: "storage never imports bot or connectors"},
	{from: "*", deny: []string{"cmd"},
		why: "nothing outside cmd imports cmd"},
	{from: "*", deny: []string{"storage/storetest"}, prodOnly: true,
		why: "storage/storetest is test support: only _test.go files import it"},
	{from: "*", deny: []string{"connectors/web/webtest"}, prodOnly: true,
		why: "connectors/web/webtest is test support: only _test.go files import it"},
	{from: "*", deny: []string{"core/engine/enginetest"}, prodOnly: true,
		why: "core/engine/enginetest is test support: only _test.go files import it"},
}

type importRule struct {
	from       string   // pattern of the importing packages
	exact      bool     // from names one package, not those under it
	except     []string // packages (exactly) the rule does not apply to
	deny       []string // patterns of module packages they must not depend on
	stdlibOnly bool     // no third-party dependency either
	prodOnly   bool     // the rule does not apply to imports of _test.go files
	why        string
}

// listedPackage is the part of `go list -json` output the check reads.
type listedPackage struct {
	ImportPath   string
	Standard     bool
	Imports      []string
	TestImports  []string
	XTestImports []string
}

func TestImportDirection(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the import check needs the go command: %v", err)
	}
	out, err := exec.Command(goBin, "list", "-f", "{{.Module.Path}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderrOf(err))
	}
	module := strings.TrimSpace(string(out))

	cmd := exec.Command(goBin, "list", "-e", "-deps",
		"-json=ImportPath,Standard,Imports,TestImports,XTestImports", "./...")
	cmd.Dir = "../.."
	out, err = cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, stderrOf(err))
	}
	var pkgs []listedPackage
	for dec := json.NewDecoder(bytes.NewReader(out)); ; {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decoding go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if !slices.ContainsFunc(pkgs, func(p listedPackage) bool { return p.ImportPath == module+"/core" }) {
		t.Fatalf("go list found no package %s/core: is the check looking at the right module?", module)
	}
	for _, v := range checkImports(module, pkgs, importRules) {
		t.Error(v)
	}
}

func stderrOf(err error) []byte {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.Stderr
	}
	return nil
}

// checkImports returns one message per violation, naming the importing package, the
// forbidden import, the chain of imports that leads to it and the rule.
func checkImports(module string, pkgs []listedPackage, rules []importRule) []string {
	byPath := make(map[string]listedPackage, len(pkgs))
	for _, p := range pkgs {
		byPath[p.ImportPath] = p
	}
	rel := func(path string) (string, bool) {
		if path == module {
			return ".", true
		}
		r, ok := strings.CutPrefix(path, module+"/")
		return r, ok
	}
	isStd := func(path string) bool {
		if p, ok := byPath[path]; ok {
			return p.Standard
		}
		// Not in the listing (a test-only import): the standard library has no dot in
		// its first path element.
		first, _, _ := strings.Cut(path, "/")
		return !strings.Contains(first, ".")
	}

	var violations []string
	for _, p := range pkgs {
		from, ok := rel(p.ImportPath)
		if !ok {
			continue
		}
		prod := dependencyChains(p.ImportPath, p.Imports, byPath, module)
		inProd := make(map[string]bool, len(prod))
		for _, c := range prod {
			inProd[c[len(c)-1]] = true
		}
		// Test chains that reach a production dependency were judged with prod already.
		test := slices.DeleteFunc(
			dependencyChains(p.ImportPath, slices.Concat(p.TestImports, p.XTestImports), byPath, module),
			func(c []string) bool { return inProd[c[len(c)-1]] })

		for _, r := range rules {
			if !matches(r.from, from) || (r.exact && from != r.from) || slices.Contains(r.except, from) {
				continue
			}
			judge := func(chains [][]string, kind string) {
				for _, chain := range chains {
					dep := chain[len(chain)-1]
					var bad bool
					if to, inModule := rel(dep); inModule {
						bad = unit(to) != unit(from) && slices.ContainsFunc(r.deny, func(d string) bool { return matches(d, to) })
					} else {
						bad = r.stdlibOnly && !isStd(dep)
					}
					if bad {
						violations = append(violations, formatViolation(module, from, kind, chain, r.why))
					}
				}
			}
			judge(prod, "imports")
			if !r.prodOnly {
				judge(test, "imports in tests")
			}
		}
	}
	return violations
}

// dependencyChains walks the import graph from the direct imports of pkg and returns, for
// every package reached, the shortest chain of imports from pkg to it. It walks through
// packages of the module only: the rules are about this module's packages, and standard
// or third-party packages do not import them.
func dependencyChains(pkg string, direct []string, byPath map[string]listedPackage, module string) [][]string {
	seen := map[string]bool{pkg: true}
	var chains, queue [][]string
	for _, d := range direct {
		if !seen[d] {
			seen[d] = true
			queue = append(queue, []string{pkg, d})
		}
	}
	for len(queue) > 0 {
		chain := queue[0]
		queue = queue[1:]
		chains = append(chains, chain)
		last := chain[len(chain)-1]
		if last != module && !strings.HasPrefix(last, module+"/") {
			continue
		}
		for _, next := range byPath[last].Imports {
			if !seen[next] {
				seen[next] = true
				queue = append(queue, append(slices.Clip(chain), next))
			}
		}
	}
	return chains
}

func formatViolation(module, from, kind string, chain []string, why string) string {
	short := make([]string, len(chain))
	for i, c := range chain {
		short[i] = strings.TrimPrefix(c, module+"/")
	}
	msg := from + " " + kind + " " + short[len(short)-1]
	if len(chain) > 2 {
		msg += " (via " + strings.Join(short, " -> ") + ")"
	}
	return msg + ": " + why
}

// matches reports whether the module-relative package path rel is pattern or under it;
// "*" matches every package.
func matches(pattern, rel string) bool {
	return pattern == "*" || rel == pattern || strings.HasPrefix(rel, pattern+"/")
}

// unit is the part of the module a package belongs to: connectors/<name>,
// storage/<name> and core/<name> for connectors, stores and core's subsystems,
// the top-level directory otherwise.
func unit(rel string) string {
	parts := strings.SplitN(rel, "/", 3)
	if len(parts) >= 2 && (parts[0] == "connectors" || parts[0] == "storage" || parts[0] == "core") {
		return parts[0] + "/" + parts[1]
	}
	return parts[0]
}

func TestCheckImportsCatchesViolations(t *testing.T) {
	const m = "example.com/t"
	// Paths in the table are module-relative, except standard library packages and paths
	// with a dot in their first element.
	stdlib := []string{"context", "testing"}
	abs := func(paths []string) []string {
		out := make([]string, len(paths))
		for i, p := range paths {
			if first, _, _ := strings.Cut(p, "/"); slices.Contains(stdlib, p) || strings.Contains(first, ".") {
				out[i] = p
			} else {
				out[i] = m + "/" + p
			}
		}
		return out
	}
	std := func(path string) listedPackage { return listedPackage{ImportPath: path, Standard: true} }
	pkg := func(path string, imports ...string) listedPackage {
		return listedPackage{ImportPath: m + "/" + path, Imports: abs(imports)}
	}
	withTests := func(p listedPackage, testImports ...string) listedPackage {
		p.XTestImports = abs(testImports)
		return p
	}

	tests := []struct {
		name string
		pkgs []listedPackage
		want []string
	}{
		{
			name: "allowed directions",
			pkgs: []listedPackage{
				std("context"), std("testing"),
				pkg("core", "context"),
				pkg("core/sla", "core"),
				pkg("bot", "core"),
				pkg("connectors/slack", "bot", "core", "connectors/slack/blocks"),
				pkg("connectors/slack/blocks", "bot"),
				pkg("storage/sqlstore", "core"),
				pkg("storage/postgres", "core", "storage/sqlstore"),
				pkg("storage/storetest", "core", "testing"),
				withTests(pkg("storage/memory", "core"), "storage/storetest"),
				pkg("core/engine", "core"),
				pkg("core/dispatch", "core"),
				pkg("core/engine/enginetest", "core/engine", "core/dispatch", "core", "testing"),
				withTests(pkg("storage/sqlite", "core"), "storage/storetest", "core/engine/enginetest", "storage/memory"),
				pkg("cmd/ticketd", "connectors/slack", "storage/postgres", "cmd/other"),
				pkg("cmd/other"),
			},
		},
		{
			name: "core imports one of its subsystems",
			pkgs: []listedPackage{pkg("core", "core/engine"), pkg("core/engine", "core")},
			want: []string{"core imports core/engine: core imports nothing"},
		},
		{
			name: "a store imports the engine",
			pkgs: []listedPackage{pkg("storage/sqlstore", "core/engine"), pkg("core/engine", "core"), pkg("core")},
			want: []string{"storage/sqlstore imports core/engine: stores implement core's ports"},
		},
		{
			name: "a subsystem imports bot",
			pkgs: []listedPackage{pkg("core/engine", "bot"), pkg("bot")},
			want: []string{"core/engine imports bot: a core subsystem"},
		},
		{
			name: "core imports the module",
			pkgs: []listedPackage{pkg("core", "bot"), pkg("bot")},
			want: []string{"core imports bot: core imports nothing"},
		},
		{
			name: "core imports a third-party module",
			pkgs: []listedPackage{pkg("core", "github.com/x/y"), {ImportPath: "github.com/x/y"}},
			want: []string{"core imports github.com/x/y: core imports nothing"},
		},
		{
			name: "bot reaches storage through a helper",
			pkgs: []listedPackage{pkg("bot", "internal/h"), pkg("internal/h", "storage/redis"), pkg("storage/redis")},
			want: []string{"bot imports storage/redis (via bot -> internal/h -> storage/redis): bot never imports"},
		},
		{
			name: "connector imports another connector",
			pkgs: []listedPackage{pkg("connectors/slack/x", "connectors/discord"), pkg("connectors/discord")},
			want: []string{"connectors/slack/x imports connectors/discord: no connector imports"},
		},
		{
			name: "connector test imports another connector",
			pkgs: []listedPackage{withTests(pkg("connectors/web"), "connectors/slack"), pkg("connectors/slack")},
			want: []string{"connectors/web imports in tests connectors/slack: no connector imports"},
		},
		{
			name: "connector test may use a real store",
			pkgs: []listedPackage{withTests(pkg("connectors/web"), "storage/memory"), pkg("storage/memory")},
			want: nil,
		},
		{
			name: "storage imports bot",
			pkgs: []listedPackage{pkg("storage/redis", "bot"), pkg("bot")},
			want: []string{"storage/redis imports bot: storage never imports"},
		},
		{
			name: "bot imports cmd",
			pkgs: []listedPackage{pkg("bot", "cmd/ticketd"), pkg("cmd/ticketd")},
			want: []string{"bot imports cmd/ticketd: nothing outside cmd"},
		},
		{
			name: "storetest imports the engine",
			pkgs: []listedPackage{pkg("storage/storetest", "core/engine"), pkg("core/engine", "core"), pkg("core")},
			want: []string{"storage/storetest imports core/engine: stores implement core's ports"},
		},
		{
			name: "the engine suite imports a store",
			pkgs: []listedPackage{pkg("core/engine/enginetest", "core/engine", "storage/memory"), pkg("core/engine", "core"),
				pkg("storage/memory", "core"), pkg("core")},
			want: []string{"core/engine/enginetest imports storage/memory: a core subsystem imports core"},
		},
		{
			name: "production code imports enginetest",
			pkgs: []listedPackage{pkg("bot", "core/engine/enginetest"), pkg("core/engine/enginetest", "core/engine"), pkg("core/engine")},
			want: []string{"bot imports core/engine/enginetest: core/engine/enginetest is test support"},
		},
		{
			name: "production code imports storetest",
			pkgs: []listedPackage{pkg("storage/postgres", "storage/storetest"), pkg("storage/storetest")},
			want: []string{"storage/postgres imports storage/storetest: storage/storetest is test support"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := checkImports(m, tt.pkgs, importRules)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d violations, want %d:\n%s", len(got), len(tt.want), strings.Join(got, "\n"))
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tt.want[i]) {
					t.Errorf("violation %d:\n got %q\nwant prefix %q", i, got[i], tt.want[i])
				}
			}
		})
	}
}
