package sqlite

const sqlTenantUserCnt = "SELECT coalesce((SELECT n FROM user_counts WHERE tenant_id = ?), 0)"
