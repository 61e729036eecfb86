#include "src/cli/csv.h"

#include <csv.h>

#include "absl/strings/str_cat.h"

namespace phigate::cli {
namespace {

// Every byte of an unquoted field is kept: libcsv's default trims spaces and tabs.
int NoSpace(unsigned char) { return 0; }

}  // namespace

struct CsvReader::Parser {
  csv_parser p;
};

CsvReader::CsvReader(char delimiter, size_t max_field_bytes)
    : parser_(std::make_unique<Parser>()), max_field_bytes_(max_field_bytes) {
  // STRICT: a quote inside an unquoted field is an error; STRICT_FINI: so is
  // a quoted field open at the end.
  csv_init(&parser_->p, CSV_STRICT | CSV_STRICT_FINI);
  csv_set_space_func(&parser_->p, &NoSpace);
  csv_set_delim(&parser_->p, static_cast<unsigned char>(delimiter));
  // The field buffer grows by this much at a time (libcsv's 128 bytes would
  // copy a long note's field over and over).
  csv_set_blk_size(&parser_->p, size_t{1} << 16);
}

CsvReader::~CsvReader() { csv_free(&parser_->p); }

void CsvReader::OnField(void* s, size_t len, void* self) {
  auto* r = static_cast<CsvReader*>(self);
  r->current_.emplace_back(s == nullptr ? "" : std::string(static_cast<const char*>(s), len));
}

void CsvReader::OnRecordEnd(int c, void* self) {
  auto* r = static_cast<CsvReader*>(self);
  if (!r->first_end_seen_) {
    r->first_end_seen_ = true;
    r->crlf_ = c == '\r';
  }
  r->out_->push_back(std::move(r->current_));
  r->current_.clear();
  ++r->records_;
}

Status CsvReader::Error(std::string_view what) const {
  // Names the record, never its contents (they may hold PHI).
  return absl::InvalidArgumentError(absl::StrCat(ToAbsl(what), " in record ", records_ + 1));
}

Status CsvReader::Feed(std::string_view bytes, std::vector<CsvRecord>* out) {
  out_ = out;
  // In pieces, so that the field being read (libcsv's entry_pos: its length
  // so far) is checked against the limit as it grows.
  constexpr size_t kPiece = size_t{1} << 16;
  for (size_t i = 0; i < bytes.size(); i += kPiece) {
    const std::string_view piece = bytes.substr(i, kPiece);
    const size_t n =
        csv_parse(&parser_->p, piece.data(), piece.size(), &OnField, &OnRecordEnd, this);
    if (n != piece.size()) {
      return csv_error(&parser_->p) == CSV_EPARSE ? Error("malformed CSV")
                                                  : Error("out of memory reading CSV");
    }
    if (parser_->p.entry_pos > max_field_bytes_) {
      return Error(absl::StrCat("a field longer than ", max_field_bytes_, " bytes"));
    }
  }
  return absl::OkStatus();
}

Status CsvReader::Finish(std::vector<CsvRecord>* out) {
  out_ = out;
  if (csv_fini(&parser_->p, &OnField, &OnRecordEnd, this) != 0) {
    return Error("malformed CSV (a quoted field is not closed)");
  }
  return absl::OkStatus();
}

void AppendCsvRecord(const CsvRecord& fields, char delimiter, std::string_view eol,
                     std::string* out) {
  if (fields.size() == 1 && fields[0].empty()) {  // else an empty line, which readers skip
    out->append("\"\"");
    out->append(eol);
    return;
  }
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out->push_back(delimiter);
    const std::string& f = fields[i];
    const bool quote =
        f.find_first_of(std::string{delimiter, '"', '\r', '\n'}) != std::string::npos ||
        (!f.empty() &&
         (f.front() == ' ' || f.front() == '\t' || f.back() == ' ' || f.back() == '\t'));
    if (!quote) {
      out->append(f);
      continue;
    }
    out->push_back('"');
    for (char c : f) {
      if (c == '"') out->push_back('"');
      out->push_back(c);
    }
    out->push_back('"');
  }
  out->append(eol);
}

}  // namespace phigate::cli
