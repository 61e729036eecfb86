// A page cache over SQLite's default one (pcache1) that skips the truncations
// which can remove nothing.
//
// Why: at the end of every transaction the pager truncates its cache to the
// database size (pager_end_transaction -> sqlite3PcacheTruncate). pcache1
// does the work only when its high-water page number (iMaxKey, raised by every
// page created or renumbered, lowered only by a truncation) reaches past that
// size; then it walks every bucket of its hash table and every page on it when
// the gap exceeds the table's size. balance_nonroot() swaps the numbers of two
// new sibling pages through a temporary one, the lock-byte page
// (PENDING_BYTE / page size + 1: 262,145 at 4 KiB pages), so every transaction
// that splits a b-tree page that way leaves iMaxKey at 262,145 although no page
// holds that number any more, and its commit walks the whole cache: 16,384
// buckets and every cached page, ~200 µs, 7 % of `phigate serve`'s CPU under
// load (perf, session 11; docs/gateway.md).
//
// How: every call goes to pcache1 unchanged. Beside it, each cache keeps its
// own bound on the highest page number present (from the same two calls that
// raise iMaxKey, leaving out the lock-byte number) and how many pages sit at
// the lock-byte number. A truncation is passed on unless no page can be at or
// past its limit; pages at or past the limit only ever come from xFetch with
// creation or from xRekey, so the bound is exact or too high, never too low,
// and a truncation that could remove a page always runs.
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <mutex>

#include "phigate/store/sqlite_process.h"

namespace phigate::store {
namespace {

constexpr unsigned kPendingByte = 0x40000000u;  // SQLite's PENDING_BYTE (not changed by us)

sqlite3_pcache_methods2 g_inner;
std::atomic<uint64_t> g_passed{0};
std::atomic<uint64_t> g_skipped{0};
std::atomic<uint64_t> g_parked{0};

struct Cache {
  sqlite3_pcache* inner = nullptr;
  unsigned lock_page = 0;  // the lock-byte page's number at this cache's page size
  unsigned max_key = 0;    // no page other than those at lock_page has a higher number
  unsigned parked = 0;     // pages at lock_page (a swap in progress)
};

Cache* Of(sqlite3_pcache* p) { return reinterpret_cast<Cache*>(p); }

int Init(void*) { return g_inner.xInit != nullptr ? g_inner.xInit(g_inner.pArg) : SQLITE_OK; }
void Shutdown(void*) {
  if (g_inner.xShutdown != nullptr) g_inner.xShutdown(g_inner.pArg);
}

sqlite3_pcache* Create(int page_size, int extra, int purgeable) {
  sqlite3_pcache* inner = g_inner.xCreate(page_size, extra, purgeable);
  if (inner == nullptr) return nullptr;
  auto* c = static_cast<Cache*>(sqlite3_malloc(sizeof(Cache)));
  if (c == nullptr) {
    g_inner.xDestroy(inner);
    return nullptr;
  }
  *c = Cache{};
  c->inner = inner;
  c->lock_page = page_size > 0 ? kPendingByte / static_cast<unsigned>(page_size) + 1 : 0;
  return reinterpret_cast<sqlite3_pcache*>(c);
}

void Cachesize(sqlite3_pcache* p, int n) { g_inner.xCachesize(Of(p)->inner, n); }
int Pagecount(sqlite3_pcache* p) { return g_inner.xPagecount(Of(p)->inner); }

sqlite3_pcache_page* Fetch(sqlite3_pcache* p, unsigned key, int create) {
  Cache* c = Of(p);
  // A page is created only when `create` is non-zero. The lock-byte page is
  // never fetched from a sound database; if it is, it counts like any other.
  if (create != 0) c->max_key = std::max(c->max_key, key);
  return g_inner.xFetch(c->inner, key, create);
}

void Unpin(sqlite3_pcache* p, sqlite3_pcache_page* page, int discard) {
  g_inner.xUnpin(Of(p)->inner, page, discard);
}

void Rekey(sqlite3_pcache* p, sqlite3_pcache_page* page, unsigned old_key, unsigned new_key) {
  Cache* c = Of(p);
  if (old_key == c->lock_page && c->parked > 0) --c->parked;
  if (new_key == c->lock_page) {
    ++c->parked;
    g_parked.fetch_add(1, std::memory_order_relaxed);
  } else {
    c->max_key = std::max(c->max_key, new_key);
  }
  g_inner.xRekey(c->inner, page, old_key, new_key);
}

void Truncate(sqlite3_pcache* p, unsigned limit) {
  Cache* c = Of(p);
  const bool parked_removed = c->parked > 0 && c->lock_page >= limit;
  if (c->max_key < limit && !parked_removed) {
    g_skipped.fetch_add(1, std::memory_order_relaxed);
    return;  // no page has a number >= limit: nothing to remove
  }
  g_passed.fetch_add(1, std::memory_order_relaxed);
  g_inner.xTruncate(c->inner, limit);
  if (limit > 0) c->max_key = std::min(c->max_key, limit - 1);
  if (c->lock_page >= limit) c->parked = 0;
}

void Destroy(sqlite3_pcache* p) {
  Cache* c = Of(p);
  g_inner.xDestroy(c->inner);
  sqlite3_free(c);
}

void Shrink(sqlite3_pcache* p) {
  if (g_inner.xShrink != nullptr) g_inner.xShrink(Of(p)->inner);
}

}  // namespace

bool UseSqlitePageCacheWithoutIdleTruncation() {
  static std::once_flag once;
  static bool installed = false;
  std::call_once(once, [] {
    // Both calls fail (SQLITE_MISUSE) once SQLite is initialized: then the
    // default cache stays in use.
    sqlite3_pcache_methods2 inner{};
    if (sqlite3_config(SQLITE_CONFIG_GETPCACHE2, &inner) != SQLITE_OK || inner.iVersion < 1 ||
        inner.xCreate == nullptr || inner.xTruncate == nullptr) {
      return;
    }
    g_inner = inner;
    static sqlite3_pcache_methods2 outer{};
    outer.iVersion = 1;
    outer.pArg = nullptr;
    outer.xInit = Init;
    outer.xShutdown = Shutdown;
    outer.xCreate = Create;
    outer.xCachesize = Cachesize;
    outer.xPagecount = Pagecount;
    outer.xFetch = Fetch;
    outer.xUnpin = Unpin;
    outer.xRekey = Rekey;
    outer.xTruncate = Truncate;
    outer.xDestroy = Destroy;
    outer.xShrink = Shrink;
    installed = sqlite3_config(SQLITE_CONFIG_PCACHE2, &outer) == SQLITE_OK;
  });
  return installed;
}

SqlitePageCacheStats SqlitePageCacheCounters() {
  return {.truncations_passed = g_passed.load(std::memory_order_relaxed),
          .truncations_skipped = g_skipped.load(std::memory_order_relaxed),
          .lock_page_renumberings = g_parked.load(std::memory_order_relaxed)};
}

}  // namespace phigate::store
