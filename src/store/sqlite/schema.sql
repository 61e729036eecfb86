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
