-- phigate store schema for PostgreSQL. Each "-- phigate:migration N" block is
-- applied once, in order, inside one transaction under an advisory lock (so
-- replicas starting together migrate once), and recorded in
-- phigate_schema_migrations. Never edit a released block; append a new one.

-- phigate:migration 1
CREATE TABLE phigate_records (
  tenant TEXT NOT NULL,
  ns     TEXT NOT NULL,
  key    TEXT COLLATE "C" NOT NULL,
  value  BYTEA NOT NULL,
  ts     BIGINT NOT NULL,
  PRIMARY KEY (tenant, ns, key)
);

-- phigate:migration 2
CREATE INDEX phigate_records_by_ts ON phigate_records (tenant, ns, ts);

-- phigate:migration 3
-- Retention index led by ts. With (tenant, ns, ts), statistics gathered while
-- a namespace was small made the planner answer key lookups (Get, GetMany)
-- by scanning the whole namespace through this index; an index that starts
-- with ts is useless for them, and DeleteOlderThan still ranges over ts.
DROP INDEX IF EXISTS phigate_records_by_ts;
CREATE INDEX phigate_records_by_ts_first ON phigate_records (ts, tenant, ns);

-- phigate:migration 4
-- Bytewise comparison for tenant and ns too (key already was): under the
-- database's default collation every index comparison of these columns went
-- through strcoll. Same order as SQLite's BINARY collation.
ALTER TABLE phigate_records
  ALTER COLUMN tenant TYPE TEXT COLLATE "C",
  ALTER COLUMN ns TYPE TEXT COLLATE "C";
