// CSV records for `phigate deid --csv` (RFC 4180: quoted fields, doubled
// quotes, line breaks inside quotes). Reading is libcsv's strict parser with
// every byte of a field kept (no trimming of spaces); writing quotes a field
// only when it needs it.
#ifndef PHIGATE_CLI_CSV_H_
#define PHIGATE_CLI_CSV_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "phigate/core/status.h"

namespace phigate::cli {

using CsvRecord = std::vector<std::string>;

// Streams bytes into records. Not thread-safe; one per input.
class CsvReader {
 public:
  // A field (or a quoted one still open) longer than `max_field_bytes` is an
  // error, so an unclosed quote cannot take the rest of a huge file into memory.
  explicit CsvReader(char delimiter = ',', size_t max_field_bytes = size_t{256} << 20);
  ~CsvReader();
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  // Parses `bytes` (any split of the input) and appends the records it
  // completes to *out. InvalidArgument for malformed input ("malformed CSV in
  // record N": a quote inside an unquoted field, or a character after a
  // closing quote; or a field over the limit); no record after the bad one
  // is returned.
  Status Feed(std::string_view bytes, std::vector<CsvRecord>* out);
  // End of input: the last record (without a line break), or InvalidArgument
  // when a quoted field is still open.
  Status Finish(std::vector<CsvRecord>* out);

  // Records completed so far (the number of the next one is this + 1).
  size_t records() const { return records_; }
  // The first record ended with CR (CR LF: to write the output the same way).
  bool crlf() const { return crlf_; }

 private:
  struct Parser;
  static void OnField(void* s, size_t len, void* self);
  static void OnRecordEnd(int c, void* self);
  Status Error(std::string_view what) const;

  std::unique_ptr<Parser> parser_;
  CsvRecord current_;
  std::vector<CsvRecord>* out_ = nullptr;
  size_t max_field_bytes_;
  size_t records_ = 0;
  bool crlf_ = false;
  bool first_end_seen_ = false;
};

// Appends one record and `eol` to *out, quoting the fields that hold the
// delimiter, a quote, CR or LF, or that start or end with a space or tab.
void AppendCsvRecord(const CsvRecord& fields, char delimiter, std::string_view eol,
                     std::string* out);

}  // namespace phigate::cli

#endif  // PHIGATE_CLI_CSV_H_
