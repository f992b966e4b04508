-- 0014: the console's search by words (sqlstore's search.go). Each word is
-- a prefix of userName, displayName, a name part, an e-mail value or
-- externalId, folded with scim.Fold; a prefix is a range of a COLLATE "C"
-- index on (tenant_id, folded value), in code point order like the range's
-- bounds. userName, displayName and the e-mail values have such indexes
-- already; the name parts and externalId (whose column is case-exact) get
-- folded columns here, derived from doc on every write (see derive in
-- users.go). The backfill reads doc_fold, whose strings scim.Fold folded,
-- so it folds exactly as the store does on write.
ALTER TABLE users ADD COLUMN given_name_fold TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN family_name_fold TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN formatted_name_fold TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN external_id_fold TEXT COLLATE "C";
UPDATE users SET
    given_name_fold     = CASE jsonb_typeof(doc_fold -> 'name' -> 'givenName')  WHEN 'string' THEN doc_fold -> 'name' ->> 'givenName'  END,
    family_name_fold    = CASE jsonb_typeof(doc_fold -> 'name' -> 'familyName') WHEN 'string' THEN doc_fold -> 'name' ->> 'familyName' END,
    formatted_name_fold = CASE jsonb_typeof(doc_fold -> 'name' -> 'formatted')  WHEN 'string' THEN doc_fold -> 'name' ->> 'formatted'  END,
    external_id_fold    = CASE jsonb_typeof(doc_fold -> 'externalId') WHEN 'string' THEN doc_fold ->> 'externalId' END;
CREATE INDEX users_given_name     ON users (tenant_id, given_name_fold, seq);
CREATE INDEX users_family_name    ON users (tenant_id, family_name_fold, seq);
CREATE INDEX users_formatted_name ON users (tenant_id, formatted_name_fold, seq);
CREATE INDEX users_external_fold  ON users (tenant_id, external_id_fold, seq);
