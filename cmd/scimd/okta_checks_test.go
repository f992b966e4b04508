package main

// oktaChecks is the repository's copy of the checks of Okta's SCIM 2.0
// SPEC test (shared/conformance/okta/Okta-SCIM-20-SPEC-Test.json, which
// Okta publishes with its developer documentation), so that a fresh clone
// runs them too. TestOktaSPEC compares it with Okta's file whenever that is
// at hand. The steps' JavaScript (a check that /Groups answers an array)
// is not part of it; the runner never ran it.
func oktaChecks() []specStep {
	// The headers of Okta's GET requests, and of its POSTs.
	get := map[string][]string{
		"Accept":         {"application/scim+json"},
		"Accept-Charset": {"utf-8"},
		"Authorization":  {"{{auth}}"},
		"Content-Type":   {"application/scim+json; charset=utf-8"},
		"User-Agent":     {"OKTA SCIM Integration"},
	}
	post := map[string][]string{
		"Accept":        {"application/scim+json; charset=utf-8"},
		"Authorization": {"{{auth}}"},
		"Content-Type":  {"application/json"},
	}
	badAuth := map[string][]string{}
	for k, v := range get {
		badAuth[k] = v
	}
	badAuth["Authorization"] = []string{"non-token"}

	const (
		listResponse = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
		errorSchema  = "urn:ietf:params:scim:api:messages:2.0:Error"
		userSchema   = "urn:ietf:params:scim:schemas:core:2.0:User"
	)
	newUser := func(email string) string {
		return `{"schemas":["` + userSchema + `"],"userName":"{{randomUsername}}","name":{"givenName":"{{randomGivenName}}","familyName":"{{randomFamilyName}}"},` +
			`"emails":[{"primary":true,"value":"{{` + email + `}}","type":"work"}],"displayName":"{{randomGivenName}} {{randomFamilyName}}","active":true}`
	}
	status := func(n string) specAssertion { return jsonCheck("equal_number", "response_status", "", n) }
	var steps []specStep
	req := func(note, method, url string, headers map[string][]string, body string, checks []specAssertion, vars ...specVariable) {
		if len(steps) > 0 {
			steps = append(steps, specStep{StepType: "pause"})
		}
		steps = append(steps, specStep{StepType: "request", Note: note, Method: method, URL: url, Headers: headers, Body: body,
			Assertions: checks, Variables: vars})
	}
	each := func(a ...specAssertion) []specAssertion { return a }
	notEmpty := func(p string) specAssertion { return jsonCheck("not_empty", "response_json", p, "") }
	isNumber := func(p string) specAssertion { return jsonCheck("is_a_number", "response_json", p, "") }
	v := func(cmp, p, val string) specAssertion { return jsonCheck(cmp, "response_json", p, val) }
	variable := func(name, p string) specVariable {
		return specVariable{Source: "response_json", Name: name, Property: p}
	}

	req("Required Test: Test Users endpoint", "GET", "{{SCIMBaseURL}}/Users?count=1&startIndex=1", get, "", each(
		status("200"), notEmpty("Resources"), v("has_value", "schemas", listResponse),
		isNumber("itemsPerPage"), isNumber("startIndex"), isNumber("totalResults"),
		notEmpty("Resources[0].id"), notEmpty("Resources[0].name.familyName"), notEmpty("Resources[0].name.givenName"),
		notEmpty("Resources[0].userName"), notEmpty("Resources[0].active"), notEmpty("Resources[0].emails[0].value"),
	), variable("ISVUserid", "Resources[0].id"))
	req("Required Test: Get Users/{{id}} ", "GET", "{{SCIMBaseURL}}/Users/{{ISVUserid}}", get, "", each(
		status("200"), notEmpty("id"), notEmpty("name.familyName"), notEmpty("name.givenName"), notEmpty("userName"),
		notEmpty("active"), notEmpty("emails[0].value"), v("equal", "id", "{{ISVUserid}}"),
	))
	req("Required Test: Test invalid User by username", "GET", `{{SCIMBaseURL}}/Users?filter=userName eq "{{InvalidUserEmail}}"`, get, "", each(
		status("200"), v("has_value", "schemas", listResponse), v("equal", "totalResults", "0"),
	))
	req("Required Test: Test invalid User by ID", "GET", "{{SCIMBaseURL}}/Users/{{UserIdThatDoesNotExist}}", get, "", each(
		status("404"), notEmpty("detail"), v("has_value", "schemas", errorSchema),
	))
	req("Required Test: Make sure random user doesn't exist", "GET", `{{SCIMBaseURL}}/Users?filter=userName eq "{{randomEmail}}"`, get, "", each(
		status("200"), v("equal_number", "totalResults", "0"), v("has_value", "schemas", listResponse),
	))
	req("Required Test: Create Okta user with realistic values", "POST", "{{SCIMBaseURL}}/Users", post, newUser("randomEmail"), each(
		status("201"), v("equal", "active", "true"), notEmpty("id"), v("equal", "name.familyName", "{{randomFamilyName}}"),
		v("equal", "name.givenName", "{{randomGivenName}}"), v("contains", "schemas", userSchema), v("equal", "userName", "{{randomUsername}}"),
	), variable("idUserOne", "id"), variable("randomUserEmail", "emails[0].value"))
	req("Required Test: Verify that user was created", "GET", "{{SCIMBaseURL}}/Users/{{idUserOne}}", get, "", each(
		status("200"), v("equal", "userName", "{{randomUsername}}"), v("equal", "name.familyName", "{{randomFamilyName}}"),
		v("equal", "name.givenName", "{{randomGivenName}}"),
	))
	req("Required Test: Expect failure when recreating user with same values", "POST", "{{SCIMBaseURL}}/Users", post, newUser("randomUsername"), each(
		status("409"),
	))
	req("Required Test: Username Case Sensitivity Check", "GET", `{{SCIMBaseURL}}/Users?filter=userName eq "{{randomUsernameCaps}}"`, get, "", each(
		status("200"),
	))
	req("Optional Test: Verify Groups endpoint", "GET", "{{SCIMBaseURL}}/Groups", get, "", each(
		status("200"), jsonCheck("is_less_than", "response_time", "", "600"),
	))
	req("Required Test: Check status 401", "GET", `{{SCIMBaseURL}}/Users?filter=userName eq "{{randomUsernameCaps}}"`, badAuth, "", each(
		status("401"), notEmpty("detail"), v("equal", "status", "401"), v("has_value", "schemas", errorSchema),
	))
	req("Required Test: Check status 404", "GET", "{{SCIMBaseURL}}/Users/00919288221112222", get, "", each(
		status("404"), notEmpty("detail"), v("equal", "status", "404"), v("has_value", "schemas", errorSchema),
	))
	return steps
}

// jsonCheck is an assertion; value "" is none (not_empty, is_a_number).
func jsonCheck(comparison, source, property, value string) specAssertion {
	a := specAssertion{Comparison: comparison, Source: source, Property: property}
	if value != "" {
		a.Value = &value
	}
	return a
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
