// A thin SQLite VFS over the default one ("unix") that writes each WAL frame
// with one write call instead of two. SQLite appends a frame as a 24-byte
// frame header followed by the page, in two pwrite(2) calls; on the gateway's
// request path (a vault and two audit commits of 4-7 pages each) that was ~40
// pwrite calls per request. Here the header is held back until the next call
// on the WAL file: if that is the contiguous write of the page, header and
// page go out in one pwrite; any other call writes the header first.
//
// Nothing is held back across a SQLite operation: walWriteOneFrame issues the
// header and page writes back to back, so when sqlite3WalFrames returns (and
// before the wal-index makes a commit visible to readers) every byte is in
// the file, in the same order and at the same offsets as without this layer.
// Files other than WALs are the default VFS's own files, untouched.
#include <sqlite3.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "phigate/store/sqlite_process.h"

namespace phigate::store {
namespace {

constexpr int kFrameHeaderBytes = 24;

struct WalFile {
  sqlite3_file base;
  sqlite3_file* real;        // the default VFS's file, right after this struct
  sqlite3_int64 header_off;  // offset of the held-back header; -1: none
  unsigned char header[kFrameHeaderBytes];
  unsigned char* scratch;  // header + page, sqlite3_malloc'd
  int scratch_size;
};

constexpr size_t kRealOffset = (sizeof(WalFile) + 15) & ~size_t{15};

sqlite3_vfs* Root(sqlite3_vfs* vfs) { return static_cast<sqlite3_vfs*>(vfs->pAppData); }
WalFile* Wal(sqlite3_file* f) { return reinterpret_cast<WalFile*>(f); }

int FlushHeader(WalFile* w) {
  if (w->header_off < 0) return SQLITE_OK;
  const sqlite3_int64 off = w->header_off;
  w->header_off = -1;
  return w->real->pMethods->xWrite(w->real, w->header, kFrameHeaderBytes, off);
}

int WalClose(sqlite3_file* f) {
  WalFile* w = Wal(f);
  const int flushed = FlushHeader(w);
  const int rc = w->real->pMethods->xClose(w->real);
  sqlite3_free(w->scratch);
  w->scratch = nullptr;
  return flushed != SQLITE_OK ? flushed : rc;
}

int WalRead(sqlite3_file* f, void* buf, int amt, sqlite3_int64 off) {
  WalFile* w = Wal(f);
  if (int rc = FlushHeader(w); rc != SQLITE_OK) return rc;
  return w->real->pMethods->xRead(w->real, buf, amt, off);
}

int WalWrite(sqlite3_file* f, const void* buf, int amt, sqlite3_int64 off) {
  WalFile* w = Wal(f);
  if (w->header_off >= 0) {
    if (off == w->header_off + kFrameHeaderBytes && amt > 0) {
      const int total = kFrameHeaderBytes + amt;
      if (w->scratch_size < total) {
        auto* grown = static_cast<unsigned char*>(sqlite3_realloc(w->scratch, total));
        if (grown == nullptr) {
          // Out of memory: the two writes separately, as SQLite would.
          if (int rc = FlushHeader(w); rc != SQLITE_OK) return rc;
          return w->real->pMethods->xWrite(w->real, buf, amt, off);
        }
        w->scratch = grown;
        w->scratch_size = total;
      }
      std::memcpy(w->scratch, w->header, kFrameHeaderBytes);
      std::memcpy(w->scratch + kFrameHeaderBytes, buf, static_cast<size_t>(amt));
      const sqlite3_int64 start = w->header_off;
      w->header_off = -1;
      return w->real->pMethods->xWrite(w->real, w->scratch, total, start);
    }
    if (int rc = FlushHeader(w); rc != SQLITE_OK) return rc;
  }
  if (amt == kFrameHeaderBytes) {
    std::memcpy(w->header, buf, kFrameHeaderBytes);
    w->header_off = off;
    return SQLITE_OK;
  }
  return w->real->pMethods->xWrite(w->real, buf, amt, off);
}

int WalTruncate(sqlite3_file* f, sqlite3_int64 size) {
  WalFile* w = Wal(f);
  if (int rc = FlushHeader(w); rc != SQLITE_OK) return rc;
  return w->real->pMethods->xTruncate(w->real, size);
}

int WalSync(sqlite3_file* f, int flags) {
  WalFile* w = Wal(f);
  if (int rc = FlushHeader(w); rc != SQLITE_OK) return rc;
  return w->real->pMethods->xSync(w->real, flags);
}

int WalFileSize(sqlite3_file* f, sqlite3_int64* size) {
  WalFile* w = Wal(f);
  if (int rc = FlushHeader(w); rc != SQLITE_OK) return rc;
  return w->real->pMethods->xFileSize(w->real, size);
}

int WalLock(sqlite3_file* f, int level) {
  WalFile* w = Wal(f);
  if (int rc = FlushHeader(w); rc != SQLITE_OK) return rc;
  return w->real->pMethods->xLock(w->real, level);
}

int WalUnlock(sqlite3_file* f, int level) {
  WalFile* w = Wal(f);
  if (int rc = FlushHeader(w); rc != SQLITE_OK) return rc;
  return w->real->pMethods->xUnlock(w->real, level);
}

int WalCheckReservedLock(sqlite3_file* f, int* out) {
  WalFile* w = Wal(f);
  if (int rc = FlushHeader(w); rc != SQLITE_OK) return rc;
  return w->real->pMethods->xCheckReservedLock(w->real, out);
}

int WalFileControl(sqlite3_file* f, int op, void* arg) {
  WalFile* w = Wal(f);
  if (int rc = FlushHeader(w); rc != SQLITE_OK) return rc;
  return w->real->pMethods->xFileControl(w->real, op, arg);
}

int WalSectorSize(sqlite3_file* f) {
  WalFile* w = Wal(f);
  return w->real->pMethods->xSectorSize(w->real);
}

int WalDeviceCharacteristics(sqlite3_file* f) {
  WalFile* w = Wal(f);
  return w->real->pMethods->xDeviceCharacteristics(w->real);
}

// Version 1: a WAL file is never memory-mapped and has no shared memory of
// its own (the wal-index belongs to the database file).
const sqlite3_io_methods kWalMethods = {1,
                                        WalClose,
                                        WalRead,
                                        WalWrite,
                                        WalTruncate,
                                        WalSync,
                                        WalFileSize,
                                        WalLock,
                                        WalUnlock,
                                        WalCheckReservedLock,
                                        WalFileControl,
                                        WalSectorSize,
                                        WalDeviceCharacteristics,
                                        nullptr,
                                        nullptr,
                                        nullptr,
                                        nullptr,
                                        nullptr,
                                        nullptr};

int Open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
  sqlite3_vfs* root = Root(vfs);
  if ((flags & SQLITE_OPEN_WAL) == 0) {
    // Not a WAL: the default VFS's file as it is (szOsFile covers it).
    return root->xOpen(root, name, f, flags, out_flags);
  }
  WalFile* w = Wal(f);
  w->base.pMethods = nullptr;
  w->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(f) + kRealOffset);
  w->header_off = -1;
  w->scratch = nullptr;
  w->scratch_size = 0;
  const int rc = root->xOpen(root, name, w->real, flags, out_flags);
  if (rc != SQLITE_OK) {
    if (w->real->pMethods != nullptr) w->real->pMethods->xClose(w->real);
    return rc;
  }
  w->base.pMethods = &kWalMethods;
  return SQLITE_OK;
}

int Delete(sqlite3_vfs* v, const char* n, int sync) { return Root(v)->xDelete(Root(v), n, sync); }
int Access(sqlite3_vfs* v, const char* n, int flags, int* out) {
  return Root(v)->xAccess(Root(v), n, flags, out);
}
int FullPathname(sqlite3_vfs* v, const char* n, int size, char* out) {
  return Root(v)->xFullPathname(Root(v), n, size, out);
}
void* DlOpen(sqlite3_vfs* v, const char* n) { return Root(v)->xDlOpen(Root(v), n); }
void DlError(sqlite3_vfs* v, int n, char* msg) { Root(v)->xDlError(Root(v), n, msg); }
void (*DlSym(sqlite3_vfs* v, void* h, const char* sym))(void) {
  return Root(v)->xDlSym(Root(v), h, sym);
}
void DlClose(sqlite3_vfs* v, void* h) { Root(v)->xDlClose(Root(v), h); }
int Randomness(sqlite3_vfs* v, int n, char* out) { return Root(v)->xRandomness(Root(v), n, out); }
int Sleep(sqlite3_vfs* v, int us) { return Root(v)->xSleep(Root(v), us); }
int CurrentTime(sqlite3_vfs* v, double* t) { return Root(v)->xCurrentTime(Root(v), t); }
int GetLastError(sqlite3_vfs* v, int n, char* msg) {
  return Root(v)->xGetLastError(Root(v), n, msg);
}
int CurrentTimeInt64(sqlite3_vfs* v, sqlite3_int64* t) {
  return Root(v)->xCurrentTimeInt64(Root(v), t);
}

}  // namespace

bool CoalesceSqliteWalFrames() {
  static std::once_flag once;
  static sqlite3_vfs vfs;
  static bool registered = false;
  std::call_once(once, [] {
    (void)UseSqlitePageCacheWithoutIdleTruncation();  // before SQLite is initialized
    if (sqlite3_initialize() != SQLITE_OK) return;
    sqlite3_vfs* root = sqlite3_vfs_find(nullptr);
    if (root == nullptr || root->iVersion < 2 || root->xCurrentTimeInt64 == nullptr) return;
    vfs = sqlite3_vfs{};
    vfs.iVersion = 2;
    vfs.szOsFile = static_cast<int>(kRealOffset) + root->szOsFile;
    vfs.mxPathname = root->mxPathname;
    vfs.zName = "phigate-wal-frames";
    vfs.pAppData = root;
    vfs.xOpen = Open;
    vfs.xDelete = Delete;
    vfs.xAccess = Access;
    vfs.xFullPathname = FullPathname;
    vfs.xDlOpen = DlOpen;
    vfs.xDlError = DlError;
    vfs.xDlSym = DlSym;
    vfs.xDlClose = DlClose;
    vfs.xRandomness = Randomness;
    vfs.xSleep = Sleep;
    vfs.xCurrentTime = CurrentTime;
    vfs.xGetLastError = GetLastError;
    vfs.xCurrentTimeInt64 = CurrentTimeInt64;
    registered = sqlite3_vfs_register(&vfs, /*makeDflt=*/1) == SQLITE_OK;
  });
  return registered;
}

}  // namespace phigate::store
