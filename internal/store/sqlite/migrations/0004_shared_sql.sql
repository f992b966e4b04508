-- 0004: the tables take the shape of PostgreSQL's, so that one set of
-- statements (internal/store/sqlstore) serves both databases.
--
-- user_emails gets the folded type and display beside the folded value.
ALTER TABLE user_emails ADD COLUMN type_fold TEXT;
ALTER TABLE user_emails ADD COLUMN display_fold TEXT;
UPDATE user_emails SET type_fold = scim_fold(type), display_fold = scim_fold(display);

-- user_counts is kept by the statements that add and remove users, as on
-- PostgreSQL, in slots (SQLite uses one: its single writer has no lock to
-- share), rather than by triggers.
DROP TRIGGER users_count_insert;
DROP TRIGGER users_count_delete;
CREATE TABLE user_counts_slots (
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    slot      INTEGER NOT NULL,
    n         INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, slot)
) STRICT, WITHOUT ROWID;
INSERT INTO user_counts_slots (tenant_id, slot, n) SELECT tenant_id, 0, n FROM user_counts;
DROP TABLE user_counts;
ALTER TABLE user_counts_slots RENAME TO user_counts;

-- group_counts likewise.
DROP TRIGGER groups_count_insert;
DROP TRIGGER groups_count_delete;
CREATE TABLE group_counts_slots (
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    slot      INTEGER NOT NULL,
    n         INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, slot)
) STRICT, WITHOUT ROWID;
INSERT INTO group_counts_slots (tenant_id, slot, n) SELECT tenant_id, 0, n FROM group_counts;
DROP TABLE group_counts;
ALTER TABLE group_counts_slots RENAME TO group_counts;
