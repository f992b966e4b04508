package scimd_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// TestPackageDocs checks that every package has exactly one package
// comment, in doc.go (or main.go for commands).
func TestPackageDocs(t *testing.T) {
	dirs := map[string]bool{}
	filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") && !strings.Contains(p, "testdata") {
			dirs[filepath.Dir(p)] = true
		}
		return err
	})
	for dir := range dirs {
		pkgs, err := parser.ParseDir(token.NewFileSet(), dir, func(fi fs.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, parser.ParseComments|parser.PackageClauseOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, pkg := range pkgs {
			var with []string
			for name, f := range pkg.Files {
				if f.Doc != nil {
					with = append(with, filepath.Base(name))
				}
			}
			if len(with) != 1 {
				t.Errorf("package %s: package comment in %v, want exactly one file", dir, with)
			}
		}
	}
}
