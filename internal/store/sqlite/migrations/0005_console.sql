-- 0005: the console's tables take the shape of PostgreSQL's (its
-- 0003_console.sql), so that one set of statements (internal/store/sqlstore)
-- serves both databases. (0004 did the same for users.)
--
-- activity: the time of a record is "at".
ALTER TABLE activity RENAME COLUMN time TO at;
DROP INDEX activity_time;
CREATE INDEX activity_at ON activity (at);

-- signin_throttle: key is the throttle key's bytes (it is built from what
-- a sign-in form was given, which need not be valid UTF-8), last is
-- last_failure, and an unset time is NULL, no longer 0. A STRICT table's
-- column types and constraints cannot be altered: the table is copied.
CREATE TABLE signin_throttle_bytes (
    key          BLOB    PRIMARY KEY,
    failures     INTEGER NOT NULL,
    last_failure INTEGER,
    locked_until INTEGER
) STRICT, WITHOUT ROWID;
INSERT INTO signin_throttle_bytes (key, failures, last_failure, locked_until)
    SELECT CAST(key AS BLOB), failures, nullif(last, 0), nullif(locked_until, 0) FROM signin_throttle;
DROP TABLE signin_throttle;
ALTER TABLE signin_throttle_bytes RENAME TO signin_throttle;
