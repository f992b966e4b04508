package filter

import "testing"

const complexFilter = `userType eq "Employee" and (emails co "example.com" or emails.value co "example.org") and ` +
	`not (title pr) and emails[type eq "work" and value co "@example.com"] or ` +
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d" and ` +
	`meta.lastModified gt "2011-05-13T04:42:34Z"`

func BenchmarkParse(b *testing.B) {
	for _, bc := range []struct{ name, filter string }{
		{"simple", `userName eq "test.user@okta.local"`},
		{"complex", complexFilter},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.filter)))
			for b.Loop() {
				if _, err := Parse(bc.filter); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkMatch(b *testing.B) {
	user := decodeUser(b, false)
	for _, bc := range []struct{ name, filter string }{
		{"simple", `userName eq "bjensen@example.com"`},
		{"complex", complexFilter},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e := mustParse(b, bc.filter)
			b.ReportAllocs()
			for b.Loop() {
				Match(e, user, exactAttrs)
			}
		})
	}
}
