// The Hyperscan databases of the pattern table: which rows share a database,
// compiling them, and the copies compiled at build time.
//
// Compiling the ~90 rows costs ~0.7 s of CPU per process start (more than half
// of `phigate deid`'s start-up), and under AddressSanitizer ~5 s, since every
// allocation of the Hyperscan compiler goes through ASan's allocator. So the
// build compiles them once (tools/pattern_db_gen.cc) and embeds the serialized
// databases in the binary. At start-up the engine deserializes them when they
// were made from exactly the rows it is about to compile, by the same
// Hyperscan version, for this CPU (Hyperscan checks version and platform);
// otherwise it compiles, as before. The two paths give the same databases, so
// the findings do not depend on which one ran.
#ifndef PHIGATE_SRC_DETECT_PATTERN_DB_H_
#define PHIGATE_SRC_DETECT_PATTERN_DB_H_

#include <hs/hs.h>

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "phigate/core/status.h"
#include "src/detect/patterns.h"

namespace phigate::detect {

// The rows of one Hyperscan database: expressions, flags and ids (the row's
// index in the pattern table) in hs_compile_multi's order.
struct PatternDatabaseSpec {
  std::vector<std::string> exprs;
  std::vector<unsigned int> flags;
  std::vector<unsigned int> ids;
};

// Which rows share a database (most share one; see kOwnDatabase in the .cc);
// no database is empty.
std::vector<PatternDatabaseSpec> PatternDatabaseSpecs(std::span<const PatternSpec> specs);

// Everything that determines the compiled databases, as text: the Hyperscan
// version, the mode and every database's rows. A precompiled set is used only
// when its description equals the running engine's, byte for byte.
std::string DescribePatternDatabases(const std::vector<PatternDatabaseSpec>& dbs);

// Owns a set of databases (hs_free_database on destruction).
class PatternDatabases {
 public:
  PatternDatabases() = default;
  PatternDatabases(PatternDatabases&& other) noexcept;
  PatternDatabases& operator=(PatternDatabases&& other) noexcept;
  ~PatternDatabases();

  std::vector<hs_database_t*> Release();  // the caller frees them
  const std::vector<hs_database_t*>& get() const { return dbs_; }
  // True when they came from the precompiled set, false when compiled here.
  bool precompiled() const { return precompiled_; }

 private:
  friend Result<PatternDatabases> LoadPatternDatabases(std::span<const PatternSpec>,
                                                       const std::vector<PatternDatabaseSpec>&,
                                                       std::string_view);
  friend Result<PatternDatabases> CompilePatternDatabases(std::span<const PatternSpec>,
                                                          const std::vector<PatternDatabaseSpec>&);
  std::vector<hs_database_t*> dbs_;
  bool precompiled_ = false;
};

// Compiles every database (hs_compile_multi). A row that does not compile is
// an InternalError naming the row.
Result<PatternDatabases> CompilePatternDatabases(std::span<const PatternSpec> specs,
                                                 const std::vector<PatternDatabaseSpec>& dbs);

// The serialized form of `dbs` (SerializePatternDatabases) with their
// description, as the build embeds it.
Result<std::string> SerializePatternDatabases(const std::vector<PatternDatabaseSpec>& specs,
                                              const PatternDatabases& dbs);

// Deserializes `precompiled` when it describes exactly `dbs` and every
// database deserializes on this machine; compiles otherwise. An empty
// `precompiled` compiles.
Result<PatternDatabases> LoadPatternDatabases(std::span<const PatternSpec> specs,
                                              const std::vector<PatternDatabaseSpec>& dbs,
                                              std::string_view precompiled);

// The set embedded by the build (empty in a build without it, e.g. the
// generator itself).
std::string_view EmbeddedPatternDatabases();

}  // namespace phigate::detect

#endif  // PHIGATE_SRC_DETECT_PATTERN_DB_H_
