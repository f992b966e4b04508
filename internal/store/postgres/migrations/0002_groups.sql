-- 0002: groups and their memberships.
--
-- groups mirrors users: seq is the stable order used for paging; doc is
-- store.Group.Attrs without members, doc_fold the same with its strings
-- folded; the other columns are derived from doc on every write (see
-- deriveGroup in groups.go). display_name is kept unfolded too: it is what a
-- member group's "display" shows.
CREATE TABLE groups (
    seq               BIGSERIAL PRIMARY KEY,
    tenant_id         BIGINT NOT NULL REFERENCES tenants (id),
    id                TEXT COLLATE "C" NOT NULL,
    version           BIGINT NOT NULL,
    created           BIGINT NOT NULL,
    modified          BIGINT NOT NULL,
    display_name      TEXT COLLATE "C",
    display_name_fold TEXT COLLATE "C",
    external_id       TEXT COLLATE "C",
    doc               JSONB  NOT NULL,
    doc_fold          JSONB  NOT NULL
);
CREATE UNIQUE INDEX groups_id        ON groups (tenant_id, id);
CREATE INDEX groups_display_name     ON groups (tenant_id, display_name_fold, seq);
CREATE INDEX groups_external_id      ON groups (tenant_id, external_id, seq);
CREATE INDEX groups_seq              ON groups (tenant_id, seq);
CREATE INDEX groups_created          ON groups (tenant_id, created, seq);
CREATE INDEX groups_modified         ON groups (tenant_id, modified, seq);

-- group_counts holds each tenant's number of groups, in slots, like
-- user_counts.
CREATE TABLE group_counts (
    tenant_id BIGINT  NOT NULL REFERENCES tenants (id),
    slot      INTEGER NOT NULL,
    n         BIGINT  NOT NULL,
    PRIMARY KEY (tenant_id, slot)
);

-- group_members holds one row per membership, so that adding or removing a
-- member of a group of 100,000 touches one row and never the group's
-- document. member_id is the id of a live user or group of the same tenant
-- and member_type says which; it is not a foreign key because it names
-- either table, so the store deletes a resource's rows when it deletes the
-- resource (and when it archives a user). ord is the insertion order, in
-- which members are listed. The unique key makes adds idempotent and
-- removals by id index lookups; group_members_member serves reverse
-- lookups (members[value eq "x"], the groups of users, deletions, the
-- cycle check).
CREATE TABLE group_members (
    ord         BIGSERIAL PRIMARY KEY,
    tenant_id   BIGINT NOT NULL,
    group_seq   BIGINT NOT NULL REFERENCES groups (seq) ON DELETE CASCADE,
    member_id   TEXT COLLATE "C" NOT NULL,
    member_type TEXT   NOT NULL CHECK (member_type IN ('User', 'Group')),
    UNIQUE (group_seq, member_id)
);
CREATE INDEX group_members_order  ON group_members (group_seq, ord);
CREATE INDEX group_members_member ON group_members (tenant_id, member_id);
