package sqlite

import (
	"testing"

	"github.com/scimd/scimd/internal/store/storetest"
)

func TestSETConformance(t *testing.T) {
	storetest.RunSETs(t, func(t *testing.T) storetest.SETBackend { return mustOpen(t) })
}
