package server_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestDiscoveryGolden pins what the discovery endpoints advertise: a change
// to /ServiceProviderConfig, /ResourceTypes or /Schemas must be deliberate
// (go test ./internal/server -run DiscoveryGolden -update).
func TestDiscoveryGolden(t *testing.T) {
	e := newEnv(t)
	for _, name := range []string{"ServiceProviderConfig", "ResourceTypes", "Schemas"} {
		t.Run(name, func(t *testing.T) {
			r := e.do("GET", "/"+name, "")
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			var v any
			if err := json.Unmarshal(r.body, &v); err != nil {
				t.Fatal(err)
			}
			got, _ := json.MarshalIndent(v, "", "  ")
			got = bytes.ReplaceAll(got, []byte(e.base), []byte("https://acme.example.com/scim/v2"))
			got = append(got, '\n')
			path := filepath.Join("testdata", "golden", name+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s (run with -update if the change is deliberate):\n%s", name, path, firstDiff(string(want), string(got)))
			}
		})
	}
}

func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + itoa(i+1) + ":\n- " + w + "\n+ " + g
		}
	}
	return ""
}
