package main

import (
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
)

// cmdVersion: scimd version (and scimd --version).
func cmdVersion(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("version: unexpected argument %q", pos[0])
	}
	bi, _ := debug.ReadBuildInfo()
	fmt.Fprint(stdout, versionText(bi))
	return nil
}

// build is what the build info says of this binary.
type build struct {
	module, version string
	commit          string // "unknown" when the binary was built without VCS information
	modified        bool   // built from a work tree with uncommitted changes
	time            string // the commit's time, RFC 3339
	goVersion       string
}

func buildOf(bi *debug.BuildInfo) build {
	b := build{module: "github.com/scimd/scimd", version: "unknown", commit: "unknown", time: "unknown", goVersion: runtime.Version()}
	if bi == nil {
		return b
	}
	if bi.Main.Path != "" {
		b.module = bi.Main.Path
	}
	if bi.Main.Version != "" {
		b.version = bi.Main.Version
	}
	if bi.GoVersion != "" {
		b.goVersion = bi.GoVersion
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.commit = s.Value
		case "vcs.time":
			b.time = s.Value
		case "vcs.modified":
			b.modified = s.Value == "true"
		}
	}
	return b
}

// versionText is what "scimd version" prints. The build info has no build
// time of its own: the time printed is the commit's, which a rebuild of
// the same commit keeps (builds are reproducible).
func versionText(bi *debug.BuildInfo) string {
	b := buildOf(bi)
	var sb strings.Builder
	fmt.Fprintf(&sb, "scimd %s\n", b.version)
	fmt.Fprintf(&sb, "module:      %s\n", b.module)
	commit := b.commit
	if b.modified {
		commit += " (with uncommitted changes)"
	}
	fmt.Fprintf(&sb, "commit:      %s\n", commit)
	fmt.Fprintf(&sb, "commit time: %s\n", b.time)
	fmt.Fprintf(&sb, "go:          %s %s/%s\n", b.goVersion, runtime.GOOS, runtime.GOARCH)
	return sb.String()
}
