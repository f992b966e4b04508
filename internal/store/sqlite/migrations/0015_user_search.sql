-- 0015: the console's search by words (sqlstore's search.go). Each word is
-- a prefix of userName, displayName, a name part, an e-mail value or
-- externalId, folded with scim.Fold; a prefix is a range of an index on
-- (tenant_id, folded value). userName, displayName and the e-mail values
-- have such indexes already; the name parts and externalId (whose column
-- is case-exact) get folded columns here, derived from doc on every write
-- (see derive in users.go). scim_fold is scim.Fold, so the backfill folds
-- exactly as the store does on write.
ALTER TABLE users ADD COLUMN given_name_fold TEXT;
ALTER TABLE users ADD COLUMN family_name_fold TEXT;
ALTER TABLE users ADD COLUMN formatted_name_fold TEXT;
ALTER TABLE users ADD COLUMN external_id_fold TEXT;
UPDATE users SET
    given_name_fold     = CASE json_type(doc, '$.name.givenName')  WHEN 'text' THEN scim_fold(json_extract(doc, '$.name.givenName'))  END,
    family_name_fold    = CASE json_type(doc, '$.name.familyName') WHEN 'text' THEN scim_fold(json_extract(doc, '$.name.familyName')) END,
    formatted_name_fold = CASE json_type(doc, '$.name.formatted')  WHEN 'text' THEN scim_fold(json_extract(doc, '$.name.formatted'))  END,
    external_id_fold    = scim_fold(external_id);
CREATE INDEX users_given_name     ON users (tenant_id, given_name_fold);
CREATE INDEX users_family_name    ON users (tenant_id, family_name_fold);
CREATE INDEX users_formatted_name ON users (tenant_id, formatted_name_fold);
CREATE INDEX users_external_fold  ON users (tenant_id, external_id_fold);
