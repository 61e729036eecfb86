-- phigate store schema for SQLite. Each "-- phigate:migration N" block is
-- applied once, in order, inside one transaction, and recorded in
-- phigate_schema_migrations. Never edit a released block; append a new one.

-- phigate:migration 1
CREATE TABLE phigate_records (
  tenant TEXT NOT NULL,
  ns     TEXT NOT NULL,
  key    TEXT NOT NULL,
  value  BLOB NOT NULL,
  ts     INTEGER NOT NULL,
  PRIMARY KEY (tenant, ns, key)
) WITHOUT ROWID;

-- phigate:migration 2
CREATE INDEX phigate_records_by_ts ON phigate_records (tenant, ns, ts);

-- phigate:migration 3
-- Rows in insertion order (rowid table) with the key in a unique index. In
-- the WITHOUT ROWID layout every secondary index entry carried the primary
-- key, so the ts index was as random as the keys: a new vault value (a
-- random token key and a random blind-index key) dirtied four random pages
-- per commit. Now the rows and the ts index append; only the key index takes
-- random inserts (two pages per new vault value), which halves the WAL
-- written per batch.
CREATE TABLE phigate_records_v3 (
  id     INTEGER PRIMARY KEY,
  tenant TEXT NOT NULL,
  ns     TEXT NOT NULL,
  key    TEXT NOT NULL,
  value  BLOB NOT NULL,
  ts     INTEGER NOT NULL
);
INSERT INTO phigate_records_v3 (tenant, ns, key, value, ts)
  SELECT tenant, ns, key, value, ts FROM phigate_records ORDER BY ts, tenant, ns, key;
DROP TABLE phigate_records;
ALTER TABLE phigate_records_v3 RENAME TO phigate_records;
CREATE UNIQUE INDEX phigate_records_key ON phigate_records (tenant, ns, key);
CREATE INDEX phigate_records_by_ts ON phigate_records (tenant, ns, ts);

-- phigate:migration 4
-- (tenant, ns) pairs become small integers ("spaces"): every key index entry
-- carried the tenant and namespace text (15-30 bytes of a ~90-byte entry, compared
-- on every step of every B-tree descent). With an integer first column the
-- key index holds more entries per page, a descent compares one integer and
-- then the key, and a batch of new vault values dirties fewer pages. Spaces are
-- never deleted, so an id always names the same (tenant, ns); existing rows are
-- copied in their insertion order.
CREATE TABLE phigate_spaces (
  id     INTEGER PRIMARY KEY,
  tenant TEXT NOT NULL,
  ns     TEXT NOT NULL
);
CREATE UNIQUE INDEX phigate_spaces_name ON phigate_spaces (tenant, ns);
INSERT INTO phigate_spaces (tenant, ns)
  SELECT DISTINCT tenant, ns FROM phigate_records ORDER BY tenant, ns;
CREATE TABLE phigate_records_v4 (
  id    INTEGER PRIMARY KEY,
  space INTEGER NOT NULL,
  key   TEXT NOT NULL,
  value BLOB NOT NULL,
  ts    INTEGER NOT NULL
);
INSERT INTO phigate_records_v4 (id, space, key, value, ts)
  SELECT r.id, s.id, r.key, r.value, r.ts
  FROM phigate_records r JOIN phigate_spaces s ON s.tenant = r.tenant AND s.ns = r.ns
  ORDER BY r.id;
DROP TABLE phigate_records;
ALTER TABLE phigate_records_v4 RENAME TO phigate_records;
CREATE UNIQUE INDEX phigate_records_key ON phigate_records (space, key);
CREATE INDEX phigate_records_by_ts ON phigate_records (space, ts);
