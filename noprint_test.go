package quic

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The library reports what goes wrong through errors, statistics and trace
// events, never through output the application cannot silence: no library
// source (tests, examples, interop tools and generators aside) imports
// "log", prints with fmt.Print*, print or println, writes to os.Stdout or
// os.Stderr, or logs through slog's default logger.
func TestLibraryNeverPrints(t *testing.T) {
	t.Parallel() // CPU-bound and self-contained; the sequential tests measure goroutines and memory alone
	skip := map[string]bool{"interop": true, "examples": true, "testdata": true, "_peers": true,
		filepath.Join("internal", "testutil"): true}
	fset := token.NewFileSet()
	checked := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if skip[path] || strings.HasPrefix(d.Name(), ".") && path != "." {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		checked++
		for _, why := range printsIn(f) {
			t.Errorf("%s: %s", path, why)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("only %d library files checked", checked)
	}
}

// printsIn returns what in f prints or logs.
func printsIn(f *ast.File) []string {
	var found []string
	names := map[string]string{} // local name → import path
	for _, im := range f.Imports {
		p, _ := strconv.Unquote(im.Path.Value)
		name := p[strings.LastIndex(p, "/")+1:]
		if im.Name != nil {
			name = im.Name.Name
		}
		names[name] = p
		if p == "log" {
			found = append(found, `imports "log"`)
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			switch fn := n.Fun.(type) {
			case *ast.Ident:
				if fn.Name == "print" || fn.Name == "println" {
					found = append(found, "calls "+fn.Name)
				}
			case *ast.SelectorExpr:
				pkg, ok := fn.X.(*ast.Ident)
				if !ok {
					break
				}
				switch names[pkg.Name] {
				case "fmt":
					if strings.HasPrefix(fn.Sel.Name, "Print") {
						found = append(found, "calls fmt."+fn.Sel.Name)
					}
				case "log/slog":
					switch fn.Sel.Name {
					case "Debug", "Info", "Warn", "Error", "Log", "LogAttrs",
						"DebugContext", "InfoContext", "WarnContext", "ErrorContext":
						found = append(found, "logs through slog."+fn.Sel.Name)
					}
				}
			}
		case *ast.SelectorExpr:
			if pkg, ok := n.X.(*ast.Ident); ok && names[pkg.Name] == "os" && (n.Sel.Name == "Stdout" || n.Sel.Name == "Stderr") {
				found = append(found, "uses os."+n.Sel.Name)
			}
		}
		return true
	})
	return found
}
