// Package storetest is the conformance suite every [store.Store] backend
// passes. A backend's test is one call:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return openEmptyStore(t) })
//	}
//
// The suite fixes the behaviour the rest of scimd relies on and that backends
// must agree on: errors (ErrNotFound, ErrConflict, fn errors returned
// unchanged, *FilterError), userName uniqueness under scim.Fold, tenant
// isolation, versions and lost-update freedom, archive versus destroy, and
// the meaning of every SCIM filter form, of paging and of sorting (including
// absent values and the tie-break by creation order), cursor paging (every
// resource once, in order, even while others are created), and groups
// ([store.GroupStore], which every backend implements too): members kept
// one row each, resolved within the tenant, cycles refused, membership
// removed with the member, member filters, nested groups in UserGroups, and
// no lost update under concurrent membership changes.
package storetest
