package postgres

import (
	"testing"

	"github.com/scimd/scimd/internal/store/postgres/pgtest"
	"github.com/scimd/scimd/internal/store/storetest"
)

func TestSETConformance(t *testing.T) {
	pgtest.ServerDSN(t) // skip once, not in every subtest
	storetest.RunSETs(t, func(t *testing.T) storetest.SETBackend { return mustOpen(t) })
}
