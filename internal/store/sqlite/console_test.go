package sqlite

import (
	"testing"

	"github.com/scimd/scimd/internal/store/storetest"
)

func TestConsoleConformance(t *testing.T) {
	storetest.RunConsole(t, func(t *testing.T) storetest.ConsoleBackend { return mustOpen(t) })
}
