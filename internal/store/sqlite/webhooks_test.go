package sqlite

import (
	"testing"

	"github.com/scimd/scimd/internal/store/storetest"
)

func TestWebhookConformance(t *testing.T) {
	storetest.RunWebhooks(t, func(t *testing.T) storetest.WebhookBackend { return mustOpen(t) })
}
