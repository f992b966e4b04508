package sqlite

const sqlTenantUserCnt = "SELECT coalesce(sum(n), 0) FROM user_counts WHERE tenant_id = ?"
