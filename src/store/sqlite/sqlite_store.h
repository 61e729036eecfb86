// "sqlite://path" store: the embedded default. One connection per Store in
// WAL mode (readers never block the writer; other processes may share the
// file), synchronous=NORMAL, every transaction BEGIN IMMEDIATE, statements
// prepared once and reused.
#ifndef PHIGATE_SRC_STORE_SQLITE_SQLITE_STORE_H_
#define PHIGATE_SRC_STORE_SQLITE_SQLITE_STORE_H_

#include <memory>
#include <string>

#include "phigate/store/store.h"

namespace phigate::store::internal {

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                               const StoreOptions& options);

}  // namespace phigate::store::internal

#endif  // PHIGATE_SRC_STORE_SQLITE_SQLITE_STORE_H_
