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
// absent values and the tie-break by creation order).
package storetest
