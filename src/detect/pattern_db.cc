#include "src/detect/pattern_db.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <utility>

#include "absl/strings/str_cat.h"
#include "phigate/core/byte_io.h"

namespace phigate::detect {

namespace {

// Rows that scan faster in a Hyperscan database of their own. In one database
// with the other rows, phone_intl (a rare "+" and then bounded repeats of
// digit groups) made the whole database 15-25 % slower, and by itself it
// costs almost nothing, "+" being rare (session 6, docs/detect.md). So with
// date_compact_mdy (six digits with no literal to anchor on, after any space):
// 17-20 % of the shared scan of the dev notes, alone ~0.4 us per note
// (session 8).
constexpr std::string_view kOwnDatabase[] = {"phone_intl", "date_compact_mdy"};

// The database of a row: 0 (shared), or 1 + its index in kOwnDatabase.
size_t DatabaseOf(std::string_view row) {
  for (size_t k = 0; k < std::size(kOwnDatabase); ++k) {
    if (kOwnDatabase[k] == row) return 1 + k;
  }
  return 0;
}

// The serialized set: kMagic, the description's length and bytes, the number
// of databases, then each database's length and hs_serialize_database bytes.
// Lengths are 8-byte little-endian (the build and the engine run on the same
// kind of machine; a mismatch only makes the engine compile).
constexpr std::string_view kMagic = "phigate-hsdb-1\n";

// Deserializes every database of `precompiled`; an empty vector when the set
// does not describe `description` or any database does not deserialize here.
std::vector<hs_database_t*> Deserialize(std::string_view precompiled,
                                        std::string_view description) {
  std::vector<hs_database_t*> out;
  if (precompiled.substr(0, kMagic.size()) != kMagic) return out;
  ByteReader in(precompiled.substr(kMagic.size()));
  std::string_view stored;
  uint64_t count = 0;
  if (!in.LengthPrefixed<uint64_t>(&stored) || stored != description || !in.Get(&count)) return out;
  for (uint64_t k = 0; k < count; ++k) {
    std::string_view bytes;
    hs_database_t* db = nullptr;
    if (!in.LengthPrefixed<uint64_t>(&bytes) ||
        hs_deserialize_database(bytes.data(), bytes.size(), &db) != HS_SUCCESS) {
      for (hs_database_t* d : out) hs_free_database(d);
      out.clear();
      return out;
    }
    out.push_back(db);
  }
  if (!in.done()) {  // trailing bytes: not what the generator writes
    for (hs_database_t* d : out) hs_free_database(d);
    out.clear();
  }
  return out;
}

}  // namespace

std::vector<PatternDatabaseSpec> PatternDatabaseSpecs(std::span<const PatternSpec> specs) {
  std::vector<PatternDatabaseSpec> dbs(1 + std::size(kOwnDatabase));
  for (size_t i = 0; i < specs.size(); ++i) {
    PatternDatabaseSpec& db = dbs[DatabaseOf(specs[i].name)];
    db.exprs.emplace_back(specs[i].regex);
    db.flags.push_back(specs[i].caseless ? HS_FLAG_CASELESS : 0u);
    db.ids.push_back(static_cast<unsigned int>(i));
  }
  // A table without an own-database row (tests use small ones) has no
  // database for it.
  std::erase_if(dbs, [](const PatternDatabaseSpec& db) { return db.exprs.empty(); });
  return dbs;
}

std::string DescribePatternDatabases(const std::vector<PatternDatabaseSpec>& dbs) {
  std::string out = absl::StrCat("hyperscan ", hs_version(), "\nmode block\n");
  for (size_t k = 0; k < dbs.size(); ++k) {
    absl::StrAppend(&out, "database ", k, " rows ", dbs[k].exprs.size(), "\n");
    for (size_t i = 0; i < dbs[k].exprs.size(); ++i) {
      // The expression's length first, so no expression can end early.
      absl::StrAppend(&out, dbs[k].ids[i], " ", dbs[k].flags[i], " ", dbs[k].exprs[i].size(), " ",
                      dbs[k].exprs[i], "\n");
    }
  }
  return out;
}

PatternDatabases::PatternDatabases(PatternDatabases&& other) noexcept
    : dbs_(std::move(other.dbs_)), precompiled_(other.precompiled_) {
  other.dbs_.clear();
}

PatternDatabases& PatternDatabases::operator=(PatternDatabases&& other) noexcept {
  if (this != &other) {
    for (hs_database_t* db : dbs_) hs_free_database(db);
    dbs_ = std::move(other.dbs_);
    other.dbs_.clear();
    precompiled_ = other.precompiled_;
  }
  return *this;
}

PatternDatabases::~PatternDatabases() {
  for (hs_database_t* db : dbs_) hs_free_database(db);
}

std::vector<hs_database_t*> PatternDatabases::Release() {
  std::vector<hs_database_t*> out = std::move(dbs_);
  dbs_.clear();
  return out;
}

Result<PatternDatabases> CompilePatternDatabases(std::span<const PatternSpec> specs,
                                                 const std::vector<PatternDatabaseSpec>& dbs) {
  PatternDatabases out;
  for (size_t group = 0; group < dbs.size(); ++group) {
    const PatternDatabaseSpec& db = dbs[group];
    if (db.exprs.empty()) {
      return absl::InternalError(absl::StrCat("no pattern for Hyperscan database ", group));
    }
    std::vector<const char*> ptrs;
    ptrs.reserve(db.exprs.size());
    for (const std::string& e : db.exprs) ptrs.push_back(e.c_str());
    hs_database_t* compiled = nullptr;
    hs_compile_error_t* cerr = nullptr;
    if (hs_compile_multi(ptrs.data(), db.flags.data(), db.ids.data(),
                         static_cast<unsigned int>(ptrs.size()), HS_MODE_BLOCK, nullptr, &compiled,
                         &cerr) != HS_SUCCESS) {
      const int expr = cerr != nullptr ? cerr->expression : -1;
      const size_t row = expr >= 0 ? db.ids[static_cast<size_t>(expr)] : SIZE_MAX;
      std::string msg = absl::StrCat("pattern database does not compile: pattern ",
                                     row < specs.size() ? ToAbsl(specs[row].name) : "?", ": ",
                                     cerr != nullptr ? cerr->message : "unknown error");
      hs_free_compile_error(cerr);
      return absl::InternalError(msg);
    }
    out.dbs_.push_back(compiled);
  }
  return out;
}

Result<std::string> SerializePatternDatabases(const std::vector<PatternDatabaseSpec>& specs,
                                              const PatternDatabases& dbs) {
  if (specs.size() != dbs.get().size()) {
    return absl::InvalidArgumentError("pattern databases and their rows differ in number");
  }
  std::string out(kMagic);
  const std::string description = DescribePatternDatabases(specs);
  PutLengthPrefixed<uint64_t>(&out, description);
  PutLe<uint64_t>(&out, dbs.get().size());
  for (hs_database_t* db : dbs.get()) {
    char* bytes = nullptr;
    size_t length = 0;
    if (hs_serialize_database(db, &bytes, &length) != HS_SUCCESS) {
      return absl::InternalError("a pattern database does not serialize");
    }
    PutLengthPrefixed<uint64_t>(&out, std::string_view(bytes, length));
    std::free(bytes);  // allocated with Hyperscan's default allocator (malloc)
  }
  return out;
}

Result<PatternDatabases> LoadPatternDatabases(std::span<const PatternSpec> specs,
                                              const std::vector<PatternDatabaseSpec>& dbs,
                                              std::string_view precompiled) {
  if (!precompiled.empty()) {
    std::vector<hs_database_t*> loaded = Deserialize(precompiled, DescribePatternDatabases(dbs));
    if (loaded.size() == dbs.size()) {
      PatternDatabases out;
      out.dbs_ = std::move(loaded);
      out.precompiled_ = true;
      return out;
    }
    for (hs_database_t* db : loaded) hs_free_database(db);
  }
  return CompilePatternDatabases(specs, dbs);
}

}  // namespace phigate::detect
