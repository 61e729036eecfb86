// Where incidents live: in memory (tests), a SQLite file of its own (the
// embedded default, `breach_incidents` table), or the generic store of
// phigate/store/store.h (namespaces "breach.incident" and
// "breach.incident.seq"; for postgres:// URLs), so that gateway replicas
// sharing PostgreSQL share their incidents as they share the vault and the
// audit trail.
//
// Ids are "INC-<year>-<4+ digit sequence>" per tenant and year of first
// detection; the sequence is assigned inside the same transaction as the insert.
//
// Example:
//   PHIGATE_ASSIGN_OR_RETURN(auto store, OpenIncidentStore("sqlite://phigate-incidents.db"));
//   PHIGATE_RETURN_IF_ERROR(store->Create(inc));   // inc.id = "INC-2026-0001"
//   PHIGATE_ASSIGN_OR_RETURN(Incident again, store->Get(inc.tenant, inc.id));
#ifndef PHIGATE_BREACH_INCIDENT_STORE_H_
#define PHIGATE_BREACH_INCIDENT_STORE_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "phigate/breach/incident.h"
#include "phigate/core/ids.h"
#include "phigate/core/status.h"
#include "phigate/store/store.h"

namespace phigate::breach {

// Thread-safe in both implementations.
class IncidentStore {
 public:
  virtual ~IncidentStore() = default;
  // Assigns inc.id (and overwrites whatever was there) and stores it.
  virtual Status Create(Incident& inc) = 0;
  // Replaces the stored incident with the same (tenant, id). NotFound if absent.
  virtual Status Update(const Incident& inc) = 0;
  // NotFound if absent.
  virtual Result<Incident> Get(const TenantId& tenant, std::string_view id) = 0;
  // Every incident of the tenant, oldest first.
  virtual Result<std::vector<Incident>> List(const TenantId& tenant) = 0;
  // Incidents with this id in any tenant (ids are per tenant, so more than one may match).
  virtual Result<std::vector<Incident>> FindById(std::string_view id) = 0;
};

// "memory:", "sqlite://path" / "sqlite:///abs/path" (a bare path is taken as
// SQLite) or "postgres://..." / "postgresql://..." (the generic store, as
// OpenIncidentStoreOn). InvalidArgument for another scheme, Unavailable when
// the file or server cannot be reached.
//
// `record_key` (IncidentRecordKey of the master key): the SQLite store seals
// each record with AES-256-GCM under a per-tenant key (HKDF of record_key and
// the tenant id), with tenant and incident id as associated data, so records
// are encrypted at rest and cannot be moved between rows or tenants. Only the
// columns needed to find and order them (tenant, id, year, sequence, detection
// time, state) stay in clear. Without a key, records are written in clear
// (tests, drills); reading a sealed record without the key is
// FailedPrecondition, with the wrong key DataLoss.
//
// `retired_record_keys`: the record keys of master keys retired by a rotation
// (`phigate keys rewrap`). A record that does not open under `record_key` is
// opened under each of them; every write seals under `record_key`, so
// updating a record (`phigate breach reseal` updates them all) moves it to the
// current key.
Result<std::unique_ptr<IncidentStore>> OpenIncidentStore(
    std::string_view url, std::string record_key = {},
    std::vector<std::string> retired_record_keys = {});

// Incidents on an open generic store (any backend), sealed as above.
Result<std::unique_ptr<IncidentStore>> OpenIncidentStoreOn(
    std::shared_ptr<store::Store> store, std::string record_key = {},
    std::vector<std::string> retired_record_keys = {});

// The incident record key of a master key (its text as configured, e.g. the
// value of PHIGATE_MASTER_KEY): HKDF-SHA256, "breach-incident-records-v1".
Result<std::string> IncidentRecordKey(std::string_view master_key);

std::string FormatIncidentId(int year, int64_t seq);  // INC-2026-0007

}  // namespace phigate::breach

#endif  // PHIGATE_BREACH_INCIDENT_STORE_H_
