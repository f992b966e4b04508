package main

import (
	"encoding/json"
	"os"
	"testing"
)

// oktaChecks reads the project's copy of the checks of Okta's SCIM 2.0
// SPEC test, testdata/okta-spec.json: its 12 requests with their headers,
// bodies and assertions, and the variables they save. A fresh clone runs
// them; TestOktaSPEC also compares them with Okta's own file
// (shared/conformance/okta/Okta-SCIM-20-SPEC-Test.json) whenever that is
// at hand. The steps' JavaScript (a check that /Groups answers an array)
// is not part of it; the runner never ran it.
func oktaChecks(t *testing.T) runscopeSuite {
	t.Helper()
	raw, err := os.ReadFile("testdata/okta-spec.json")
	if err != nil {
		t.Fatal(err)
	}
	var suite runscopeSuite
	if err := json.Unmarshal(raw, &suite); err != nil {
		t.Fatalf("testdata/okta-spec.json: %v", err)
	}
	for i := range suite.Steps {
		suite.Steps[i].StepType = "request"
	}
	if len(suite.Steps) != 12 {
		t.Fatalf("testdata/okta-spec.json has %d steps, want Okta's 12", len(suite.Steps))
	}
	return suite
}

// requestSteps are the request steps of a suite with what our runner reads
// of them, for comparing two copies.
func requestSteps(steps []specStep) []specStep {
	var out []specStep
	for _, s := range steps {
		if s.StepType != "request" || s.Skipped {
			continue
		}
		s.Scripts = nil
		if len(s.Variables) == 0 {
			s.Variables = nil
		}
		if len(s.Assertions) == 0 {
			s.Assertions = nil
		}
		out = append(out, s)
	}
	return out
}
