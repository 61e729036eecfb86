// The persistence interface shared by vault, audit and breach: namespaced
// records per tenant, in transactions, over three backends.
//
//   Store::Open({.url = "memory:"})                      in-process, for tests
//   Store::Open({.url = "sqlite:///var/lib/phigate.db"}) embedded default (WAL)
//   Store::Open({.url = "postgres://user@host/db"})      shared by gateway replicas
//
// Data model: a record is (tenant, namespace, key) -> (value bytes, ts). The
// tenant comes from the TenantStore handle, never from the caller of a query,
// so one tenant's handle cannot read or write another tenant's rows (Trillian's
// "a transaction can only modify the tree it was made for"). Keys are UTF-8
// strings without NUL, ordered bytewise; values are arbitrary bytes; `ts` is
// an int64 chosen by the caller (e.g. Unix seconds) used for retention.
//
// Example:
//   PHIGATE_ASSIGN_OR_RETURN(auto store, store::Store::Open({.url = "sqlite:///tmp/p.db"}));
//   PHIGATE_ASSIGN_OR_RETURN(auto acme, store->ForTenant(tenant));
//   PHIGATE_RETURN_IF_ERROR(acme->RunInTransaction([&](store::Transaction& tx) -> Status {
//     PHIGATE_ASSIGN_OR_RETURN(bool inserted, tx.PutIfAbsent("vault.bidx", key, token, now));
//     return absl::OkStatus();
//   }));
#ifndef PHIGATE_STORE_STORE_H_
#define PHIGATE_STORE_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "phigate/core/ids.h"
#include "phigate/core/status.h"

namespace phigate::store {

struct StoreOptions {
  // "memory:", "sqlite:///abs/path.db", "sqlite://rel/path.db", "postgres://..." or
  // "postgresql://...". A PostgreSQL URL may carry `phigate_schema=<name>` in
  // its query string: tables then live in that schema (created if missing),
  // which isolates concurrent test runs.
  std::string url;
  // PostgreSQL: connections kept open (each transaction holds one).
  int pool_size = 4;
  // PostgreSQL: seconds to wait for a connection to be made.
  int connect_timeout_seconds = 3;
  // Times RunInTransaction re-runs fn after a serialization failure, deadlock
  // or a connection lost before COMMIT was sent.
  int max_retries = 5;
  // SQLite: milliseconds to wait on a lock held by another process.
  int busy_timeout_ms = 5000;
  // SQLite: page size in bytes of a NEW database file (a power of two,
  // 512..65536); 0 keeps SQLite's default (4096). Ignored for an existing
  // file. Larger pages make big batches of random keys cheaper (16384: about
  // 1.15x the vault's new tokens/s at batches of 10,000) and small
  // transactions dearer (each dirtied page is written whole to the WAL:
  // about 0.7x at batches of 10), so the default stays 4096 for the gateway's
  // per-request batches; bulk tokenization jobs may choose 16384.
  int sqlite_page_size = 0;
};

struct Record {
  std::string key;
  std::string value;
  int64_t ts = 0;
  friend bool operator==(const Record&, const Record&) = default;
};

struct ScanOptions {
  std::string start_after;  // return keys > start_after (paging); "" = from the start
  size_t limit = 1000;      // at most this many records
};

// The reads and writes of one transaction of one tenant. Only valid inside
// the RunInTransaction callback that received it; not thread-safe.
//
// Errors: InvalidArgument for a bad key/namespace (empty, NUL, > 512 bytes);
// Unavailable when the database cannot be reached; Aborted on a
// serialization conflict (RunInTransaction retries those); Internal otherwise.
// Messages name the operation and SQLSTATE, never keys or values.
class Transaction {
 public:
  virtual ~Transaction() = default;

  virtual Result<std::optional<Record>> Get(std::string_view ns, std::string_view key) = 0;
  // Results in the order of `keys`; nullopt where absent.
  virtual Result<std::vector<std::optional<Record>>> GetMany(std::string_view ns,
                                                             std::span<const std::string> keys) = 0;
  // Inserts or overwrites.
  virtual Status Put(std::string_view ns, std::string_view key, std::string_view value,
                     int64_t ts) = 0;
  virtual Status PutMany(std::string_view ns, std::span<const Record> records) = 0;
  // Inserts unless the key exists; true when this call inserted it. Two
  // concurrent transactions inserting the same key: exactly one gets true
  // (a unique constraint decides, not a read-then-write race).
  virtual Result<bool> PutIfAbsent(std::string_view ns, std::string_view key,
                                   std::string_view value, int64_t ts) = 0;
  // Batch PutIfAbsent: one flag per record, in order. If a key appears twice
  // in `records`, only its first occurrence can be inserted.
  virtual Result<std::vector<bool>> PutIfAbsentMany(std::string_view ns,
                                                    std::span<const Record> records) = 0;
  // Compare-and-set: overwrites the value of `key` (its ts kept) only if the
  // record exists and holds exactly `expected`; true when it was replaced. A
  // record deleted or rewritten by another transaction meanwhile is left as it
  // is (a re-encryption must not resurrect a purged record).
  virtual Result<bool> ReplaceIfEqual(std::string_view ns, std::string_view key,
                                      std::string_view expected, std::string_view value) = 0;
  // True when a record was deleted.
  virtual Result<bool> Delete(std::string_view ns, std::string_view key) = 0;
  // Records whose key starts with `prefix` and is > options.start_after, in key order.
  virtual Result<std::vector<Record>> Scan(std::string_view ns, std::string_view prefix,
                                           const ScanOptions& options) = 0;
  // Deletes every record of `ns` whose key starts with `prefix`; returns the count.
  virtual Result<int64_t> DeletePrefix(std::string_view ns, std::string_view prefix) = 0;
  // Deletes every record of `ns` with ts < cutoff; returns the count.
  virtual Result<int64_t> DeleteOlderThan(std::string_view ns, int64_t cutoff) = 0;
};

// All reads and writes of one tenant. Safe for concurrent use.
class TenantStore {
 public:
  virtual ~TenantStore() = default;
  virtual const TenantId& tenant() const = 0;
  // Runs fn in one transaction: commit if fn returns OK, else roll back and
  // return fn's status. May re-run fn after a serialization failure, so fn
  // must keep no state across calls (or reset it at its start). Nothing of a
  // failed or rolled-back transaction is visible afterwards. Not reentrant:
  // do not call RunInTransaction from inside fn.
  virtual Status RunInTransaction(absl::FunctionRef<Status(Transaction&)> fn) = 0;
};

class Store {
 public:
  // Opens (and migrates to the newest schema) the store named by options.url.
  // InvalidArgument for an unknown URL scheme; Unavailable when the database
  // cannot be reached; FailedPrecondition when its schema is newer than this binary's.
  static Result<std::unique_ptr<Store>> Open(const StoreOptions& options);

  virtual ~Store() = default;
  // A handle bound to one tenant. Cheap; may be called often.
  virtual Result<std::unique_ptr<TenantStore>> ForTenant(const TenantId& tenant) = 0;
  // Every tenant that has at least one record (for store-wide jobs: purge, re-wrap).
  virtual Result<std::vector<TenantId>> ListTenants() = 0;
  // The schema version this store is at.
  virtual Result<int> SchemaVersion() = 0;
  // "memory", "sqlite" or "postgres".
  virtual std::string_view backend() const = 0;
};

// Checks a namespace or key: non-empty, at most 512 bytes, no NUL.
Status ValidateKey(std::string_view what, std::string_view key);

}  // namespace phigate::store

#endif  // PHIGATE_STORE_STORE_H_
