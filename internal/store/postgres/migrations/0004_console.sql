-- 0004: roles.permissions becomes the permission names separated by
-- spaces (they have none) in one TEXT, as on SQLite, so that one set of
-- statements (internal/store/sqlstore) serves both databases.
ALTER TABLE roles
    ALTER COLUMN permissions DROP DEFAULT,
    ALTER COLUMN permissions TYPE TEXT USING array_to_string(permissions, ' '),
    ALTER COLUMN permissions SET DEFAULT '';
