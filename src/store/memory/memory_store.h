// "memory:" store: a std::map per store instance, for tests and one-shot CLI
// runs. Transactions hold one mutex (serializable) and roll back with an undo log.
#ifndef PHIGATE_SRC_STORE_MEMORY_MEMORY_STORE_H_
#define PHIGATE_SRC_STORE_MEMORY_MEMORY_STORE_H_

#include <memory>

#include "phigate/store/store.h"

namespace phigate::store::internal {

std::unique_ptr<Store> NewMemoryStore();

}  // namespace phigate::store::internal

#endif  // PHIGATE_SRC_STORE_MEMORY_MEMORY_STORE_H_
