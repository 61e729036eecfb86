// "postgres://..." store: shared by gateway replicas. A small connection pool
// (libpq), READ COMMITTED transactions, prepared statements per connection,
// batch operations as one statement over arrays, and retries on
// serialization failures, deadlocks and connections lost before COMMIT.
#ifndef PHIGATE_SRC_STORE_POSTGRES_PG_STORE_H_
#define PHIGATE_SRC_STORE_POSTGRES_PG_STORE_H_

#include <memory>

#include "phigate/store/store.h"

namespace phigate::store::internal {

Result<std::unique_ptr<Store>> OpenPgStore(const StoreOptions& options);

}  // namespace phigate::store::internal

#endif  // PHIGATE_SRC_STORE_POSTGRES_PG_STORE_H_
