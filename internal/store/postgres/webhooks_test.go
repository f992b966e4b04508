package postgres

import (
	"testing"

	"github.com/scimd/scimd/internal/store/postgres/pgtest"
	"github.com/scimd/scimd/internal/store/storetest"
)

func TestWebhookConformance(t *testing.T) {
	pgtest.ServerDSN(t) // skip once, not in every subtest
	storetest.RunWebhooks(t, func(t *testing.T) storetest.WebhookBackend { return mustOpen(t) })
}
