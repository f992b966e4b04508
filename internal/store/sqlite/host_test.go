package sqlite

import (
	"testing"

	"github.com/scimd/scimd/internal/store/storetest"
)

func TestHostConformance(t *testing.T) {
	storetest.RunHost(t, func(t *testing.T) storetest.HostBackend { return mustOpen(t) })
}
