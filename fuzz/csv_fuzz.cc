// Fuzzes `phigate deid --csv`'s reader (src/cli/csv.h, libcsv underneath) on
// untrusted files: it must never crash; what it reads must not depend on how
// the input is split into pieces; and the records it accepts, written back by
// AppendCsvRecord, must read back as the same records.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "src/cli/csv.h"

namespace {

using phigate::cli::CsvReader;
using phigate::cli::CsvRecord;

bool Read(std::string_view in, size_t piece, char delimiter, std::vector<CsvRecord>* out) {
  CsvReader reader(delimiter);
  for (size_t i = 0; i < in.size(); i += piece) {
    if (!reader.Feed(in.substr(i, piece), out).ok()) return false;
  }
  return reader.Finish(out).ok();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > (1u << 16)) return 0;
  // The first byte picks the delimiter and the size of the pieces.
  static constexpr char kDelimiters[] = {',', '\t', ';', '|'};
  const char delimiter = kDelimiters[data[0] & 3];
  const size_t piece = 1 + (data[0] >> 2);
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::vector<CsvRecord> whole, split;
  const bool ok = Read(in, in.size() + 1, delimiter, &whole);
  if (Read(in, piece, delimiter, &split) != ok) std::abort();
  if (!ok) return 0;
  if (split != whole) std::abort();
  std::string written;
  for (const CsvRecord& r : whole) phigate::cli::AppendCsvRecord(r, delimiter, "\n", &written);
  std::vector<CsvRecord> again;
  if (!Read(written, written.size() + 1, delimiter, &again) || again != whole) std::abort();
  return 0;
}
