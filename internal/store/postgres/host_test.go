package postgres

import (
	"testing"

	"github.com/scimd/scimd/internal/store/postgres/pgtest"
	"github.com/scimd/scimd/internal/store/storetest"
)

func TestHostConformance(t *testing.T) {
	pgtest.ServerDSN(t) // skip once, not in every subtest
	storetest.RunHost(t, func(t *testing.T) storetest.HostBackend { return mustOpen(t) })
}
