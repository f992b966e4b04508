package console

import (
	"net/http"

	"github.com/scimd/scimd/internal/store"
)

// routes lists every console page. Paths are below the console's prefix
// (/t/{tenant}/console or /console) or below /operator.
func (c *Console) routes() {
	m := http.NewServeMux()
	m.Handle("GET /signin", c.public(c.signInPage))
	m.Handle("POST /signin", c.public(c.signIn))
	m.Handle("POST /signout", c.page("", c.signOut))
	m.Handle("GET /{$}", c.page("", c.home))

	m.Handle("GET /keys", c.page(store.PermManageAPIKeys, c.keysPage))
	m.Handle("POST /keys", c.page(store.PermManageAPIKeys, c.createKey))
	m.Handle("POST /keys/{id}", c.page(store.PermManageAPIKeys, c.updateKey))
	m.Handle("POST /keys/{id}/rotate", c.page(store.PermManageAPIKeys, c.rotateKey))
	m.Handle("POST /keys/{id}/revoke", c.page(store.PermManageAPIKeys, c.revokeKey))
	m.Handle("POST /keys/{id}/replace", c.page(store.PermManageAPIKeys, c.replaceKey))

	m.Handle("GET /settings", c.page(store.PermManageSettings, c.settingsPage))
	m.Handle("POST /settings", c.page(store.PermManageSettings, c.updateSettings))
	m.Handle("GET /roles", c.page(store.PermManageRoles, c.rolesPage))
	m.Handle("POST /roles/{id}", c.page(store.PermManageRoles, c.updateRole))

	m.Handle("GET /users", c.page(store.PermViewUsers, c.usersPage))
	m.Handle("GET /users.csv", c.page(store.PermViewUsers, c.usersCSV))
	m.Handle("GET /users/{id}", c.page(store.PermViewUsers, c.userPage))
	m.Handle("POST /users/{id}/roles", c.page(store.PermManageRoles, c.setUserRoles))
	m.Handle("POST /users/{id}/password", c.page(store.PermManageUsers, c.setPassword))
	m.Handle("GET /archived", c.page(store.PermViewUsers, c.archivedPage))
	m.Handle("POST /archived/{id}/restore", c.page(store.PermManageUsers, c.restoreUser))
	m.Handle("GET /groups", c.page(store.PermViewUsers, c.groupsPage))
	m.Handle("GET /groups/{id}", c.page(store.PermViewUsers, c.groupPage))

	m.Handle("GET /activity", c.page(store.PermViewActivity, c.activityPage))
	m.Handle("GET /activity.csv", c.page(store.PermViewActivity, c.activityCSV))

	m.Handle("/", c.page("", func(w http.ResponseWriter, r *http.Request, q *req) error {
		return errorf(http.StatusNotFound, "There is no such page.")
	}))
	c.tenantMux = m

	o := http.NewServeMux()
	o.Handle("GET /signin", c.opPublic(c.opSignInPage))
	o.Handle("POST /signin", c.opPublic(c.opSignIn))
	o.Handle("POST /signout", c.opPage(c.opSignOut))
	o.Handle("GET /{$}", c.opPage(c.opTenants))
	o.Handle("POST /tenants", c.opPage(c.opCreateTenant))
	o.Handle("GET /tenants/{name}", c.opPage(c.opTenant))
	o.Handle("POST /tenants/{name}/provisioning", c.opPage(c.opProvisioning))
	o.Handle("POST /tenants/{name}/purge", c.opPage(c.opPurge))
	o.Handle("GET /webhooks", c.opPage(c.opWebhooks))
	o.Handle("GET /webhooks/{id}", c.opPage(c.opWebhook))
	o.Handle("POST /webhooks/{id}/test", c.opPage(c.opWebhookTest))
	o.Handle("POST /webhooks/{id}/retry", c.opPage(c.opWebhookRetry))
	o.Handle("POST /webhooks/{id}/enable", c.opPage(c.opWebhookEnable))
	o.Handle("POST /webhooks/{id}/disable", c.opPage(c.opWebhookDisable))
	o.Handle("/", c.opPage(func(w http.ResponseWriter, r *http.Request, q *req) error {
		return errorf(http.StatusNotFound, "There is no such page.")
	}))
	c.opMux = o
}
