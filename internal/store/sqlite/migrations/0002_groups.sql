-- 0002: groups and their memberships.
--
-- groups mirrors users: seq is the stable creation order used for paging
-- (AUTOINCREMENT, so never reused and always increasing, which keyset
-- cursors rely on); doc is store.Group.Attrs as JSONB, without members; the
-- other columns are derived from doc on every write (see deriveGroup in
-- groups.go). display_name is kept unfolded too: it is what a member group's
-- "display" shows.
CREATE TABLE groups (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id         INTEGER NOT NULL REFERENCES tenants (id),
    id                TEXT    NOT NULL,
    version           INTEGER NOT NULL,
    created           INTEGER NOT NULL,
    modified          INTEGER NOT NULL,
    display_name      TEXT,
    display_name_fold TEXT,
    external_id       TEXT,
    doc               BLOB    NOT NULL
) STRICT;
CREATE UNIQUE INDEX groups_id        ON groups (tenant_id, id);
CREATE INDEX groups_display_name     ON groups (tenant_id, display_name_fold);
CREATE INDEX groups_external_id      ON groups (tenant_id, external_id);
CREATE INDEX groups_seq              ON groups (tenant_id, seq);
CREATE INDEX groups_created          ON groups (tenant_id, created);
CREATE INDEX groups_modified         ON groups (tenant_id, modified);

-- group_counts holds each tenant's number of groups, kept by triggers, so
-- that an unfiltered list knows its total without counting.
CREATE TABLE group_counts (
    tenant_id INTEGER PRIMARY KEY REFERENCES tenants (id),
    n         INTEGER NOT NULL
) STRICT;
CREATE TRIGGER groups_count_insert AFTER INSERT ON groups BEGIN
    INSERT INTO group_counts (tenant_id, n) VALUES (NEW.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER groups_count_delete AFTER DELETE ON groups BEGIN
    UPDATE group_counts SET n = n - 1 WHERE tenant_id = OLD.tenant_id;
END;

-- group_members holds one row per membership, so that adding or removing a
-- member of a group of 100,000 touches one row and never the group's
-- document. member_id is the id of a live user or group of the same tenant
-- (ids are unique across both) and member_type says which; it is not a
-- foreign key because it names either table, so the store deletes a
-- resource's rows when it deletes the resource (and when it archives a
-- user: archived users are members of nothing).
--
-- The rowid is the insertion order, in which members are listed:
-- group_members_order is (group_seq, rowid), so a group's members are read
-- in order without a sort. The primary key makes adds idempotent and
-- removals by id index lookups; group_members_member serves reverse lookups
-- (the groups a user or group is in: filters members[value eq "x"], the
-- groups attribute of users, deletions, the cycle check).
CREATE TABLE group_members (
    tenant_id   INTEGER NOT NULL,
    group_seq   INTEGER NOT NULL REFERENCES groups (seq) ON DELETE CASCADE,
    member_id   TEXT    NOT NULL,
    member_type TEXT    NOT NULL CHECK (member_type IN ('User', 'Group')),
    UNIQUE (group_seq, member_id)
) STRICT;
CREATE INDEX group_members_order  ON group_members (group_seq);
CREATE INDEX group_members_member ON group_members (tenant_id, member_id);

-- list_stamps counts the changes to each tenant's users and to its groups
-- (a membership change touches the group row, so it counts too). A list by
-- startIndex remembers, per query and offset, where the page it served
-- ended and the stamp it read; a later request for the page that follows
-- (the next startIndex of an import) is then served as a keyset page from
-- there, in the time of one page rather than of an index walk over every
-- row before it, but only if the stamp has not moved since, which makes the
-- page exactly the one OFFSET would give. The stamp is in the database, so
-- writes by another process invalidate the memory of this one.
CREATE TABLE list_stamps (
    tenant_id INTEGER NOT NULL,
    tbl       TEXT    NOT NULL,
    changes   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, tbl)
) STRICT, WITHOUT ROWID;
CREATE TRIGGER users_stamp_insert AFTER INSERT ON users BEGIN
    INSERT INTO list_stamps (tenant_id, tbl, changes) VALUES (NEW.tenant_id, 'users', 1)
        ON CONFLICT (tenant_id, tbl) DO UPDATE SET changes = changes + 1;
END;
CREATE TRIGGER users_stamp_update AFTER UPDATE ON users BEGIN
    INSERT INTO list_stamps (tenant_id, tbl, changes) VALUES (NEW.tenant_id, 'users', 1)
        ON CONFLICT (tenant_id, tbl) DO UPDATE SET changes = changes + 1;
END;
CREATE TRIGGER users_stamp_delete AFTER DELETE ON users BEGIN
    INSERT INTO list_stamps (tenant_id, tbl, changes) VALUES (OLD.tenant_id, 'users', 1)
        ON CONFLICT (tenant_id, tbl) DO UPDATE SET changes = changes + 1;
END;
CREATE TRIGGER groups_stamp_insert AFTER INSERT ON groups BEGIN
    INSERT INTO list_stamps (tenant_id, tbl, changes) VALUES (NEW.tenant_id, 'groups', 1)
        ON CONFLICT (tenant_id, tbl) DO UPDATE SET changes = changes + 1;
END;
CREATE TRIGGER groups_stamp_update AFTER UPDATE ON groups BEGIN
    INSERT INTO list_stamps (tenant_id, tbl, changes) VALUES (NEW.tenant_id, 'groups', 1)
        ON CONFLICT (tenant_id, tbl) DO UPDATE SET changes = changes + 1;
END;
CREATE TRIGGER groups_stamp_delete AFTER DELETE ON groups BEGIN
    INSERT INTO list_stamps (tenant_id, tbl, changes) VALUES (OLD.tenant_id, 'groups', 1)
        ON CONFLICT (tenant_id, tbl) DO UPDATE SET changes = changes + 1;
END;
