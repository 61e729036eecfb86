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
