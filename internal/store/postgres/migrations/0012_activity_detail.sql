-- 0012: activity records say why a request failed (the SCIM error's
-- scimType and detail) and what it asked (its query string); indexes find
-- a tenant's last failure, last change and a request by id without a scan;
-- activity_counts holds each tenant's requests and failures by hour, key
-- and client, which AddActivity keeps, so that a summary of the last day
-- sums a few rows rather than counting records. The same as SQLite's
-- 0013_activity_detail.sql.
ALTER TABLE activity ADD COLUMN scim_type TEXT NOT NULL DEFAULT '';
ALTER TABLE activity ADD COLUMN detail    TEXT NOT NULL DEFAULT '';
ALTER TABLE activity ADD COLUMN query     TEXT NOT NULL DEFAULT '';
CREATE INDEX activity_failures ON activity (tenant_id, id) WHERE status >= 400;
CREATE INDEX activity_changes  ON activity (tenant_id, id)
    WHERE method IN ('POST', 'PUT', 'PATCH', 'DELETE') AND status < 400 AND path NOT LIKE '%/.search';
CREATE INDEX activity_request  ON activity (tenant_id, request_id, id);

-- hour is unix nanoseconds / 3600e9. Records written before this
-- migration are not counted.
CREATE TABLE activity_counts (
    tenant_id BIGINT NOT NULL,
    hour      BIGINT NOT NULL,
    key_id    TEXT COLLATE "C" NOT NULL,
    client    TEXT COLLATE "C" NOT NULL,
    requests  BIGINT NOT NULL,
    failures  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, hour, key_id, client)
);
CREATE INDEX activity_counts_hour ON activity_counts (hour);
