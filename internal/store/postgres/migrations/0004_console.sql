-- 0004: roles.permissions becomes the permission names separated by
-- spaces (they have none) in one TEXT, as on SQLite, so that one set of
-- statements (internal/store/sqlstore) serves both databases. A new
-- column, filled and renamed, rather than ALTER COLUMN ... TYPE, which
-- CockroachDB accepts only as an experimental feature.
ALTER TABLE roles ADD COLUMN permission_names TEXT NOT NULL DEFAULT '';
UPDATE roles SET permission_names = array_to_string(permissions, ' ');
ALTER TABLE roles DROP COLUMN permissions;
ALTER TABLE roles RENAME COLUMN permission_names TO permissions;
