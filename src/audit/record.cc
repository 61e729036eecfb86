// Record framing and canonical payload codec; see docs/formats/audit_log.md.
#include "phigate/audit/record.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace phigate::audit {
namespace {

// ---- CRC-32C: SSE4.2 instruction when the CPU has it, else a table.
uint32_t kCrcTable[256];
bool InitTable() {
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
    kCrcTable[i] = c;
  }
  return true;
}
const bool kTableReady = InitTable();

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t CrcHw(const uint8_t* p, size_t n, uint32_t crc) {
  uint64_t c = crc;
  while (n >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    c = __builtin_ia32_crc32di(c, v);
    p += 8;
    n -= 8;
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  while (n-- > 0) c32 = __builtin_ia32_crc32qi(c32, *p++);
  return c32;
}
const bool kHasSse42 = __builtin_cpu_supports("sse4.2");
#endif

void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutStr(std::string* out, const std::string& s) {
  out->push_back(static_cast<char>(s.size()));
  out->append(s);
}

class Reader {
 public:
  Reader(std::string_view data, size_t base) : data_(data), base_(base) {}
  bool U8(uint8_t* v) {
    if (pos_ + 1 > data_.size()) return false;
    *v = static_cast<uint8_t>(data_[pos_++]);
    return true;
  }
  bool U32(uint32_t* v) {
    if (pos_ + 4 > data_.size()) return false;
    *v = 0;
    for (int i = 0; i < 4; ++i) *v |= uint32_t{static_cast<uint8_t>(data_[pos_ + i])} << (8 * i);
    pos_ += 4;
    return true;
  }
  bool U64(uint64_t* v) {
    if (pos_ + 8 > data_.size()) return false;
    *v = 0;
    for (int i = 0; i < 8; ++i) *v |= uint64_t{static_cast<uint8_t>(data_[pos_ + i])} << (8 * i);
    pos_ += 8;
    return true;
  }
  bool Bytes(size_t n, std::string_view* v) {
    if (pos_ + n > data_.size()) return false;
    *v = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  // An optional id: length 0 = not set.
  bool Id(AuditId* id, bool required = false) {
    uint8_t n;
    std::string_view s;
    if (!U8(&n) || !Bytes(n, &s)) return false;
    if (n == 0) {
      *id = AuditId();
      return !required;
    }
    auto r = AuditId::Make(s);
    if (!r.ok()) return false;
    *id = *std::move(r);
    return true;
  }
  size_t offset() const { return base_ + pos_; }
  bool done() const { return pos_ == data_.size(); }

 private:
  std::string_view data_;
  size_t base_;
  size_t pos_ = 0;
};

Status Corrupt(std::string_view what, size_t offset) {
  return absl::DataLossError(absl::StrCat("audit record: ", ToAbsl(what), " at byte ", offset));
}

}  // namespace

uint32_t Crc32c(std::string_view data, uint32_t init) {
  uint32_t crc = ~init;
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
#if defined(__x86_64__)
  if (kHasSse42) return ~CrcHw(p, data.size(), crc);
#endif
  for (size_t i = 0; i < data.size(); ++i) crc = kCrcTable[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

namespace {
constexpr size_t kSeqOffset = kRecordHeaderSize + 1;  // after the version byte
constexpr size_t kPrevOffset = kSeqOffset + 8;
}  // namespace

Result<std::string> EncodeEventFrame(const AuditEvent& e) {
  std::string out;
  out.reserve(320);
  out.append(kRecordHeaderSize, '\0');  // length + type, filled below
  out.push_back(static_cast<char>(e.sent_as_written ? kRecordVersion : kRecordVersion1));
  out.append(8 + 32, '\0');  // seq and prev_hash: SealRecord
  PutU64(&out, static_cast<uint64_t>(e.time_us));
  out.push_back(static_cast<char>(e.kind));
  PutStr(&out, e.tenant.value());
  for (const AuditId* id : {&e.user, &e.role, &e.feature, &e.purpose, &e.request_id, &e.vendor,
                            &e.endpoint, &e.model, &e.baa_id, &e.policy_version}) {
    PutStr(&out, id->value());
  }
  out.push_back(static_cast<char>(e.decision));
  out.push_back(static_cast<char>(e.outcome));
  out.push_back(static_cast<char>(e.reasons.size()));
  for (const AuditId& r : e.reasons) PutStr(&out, r.value());
  out.push_back(static_cast<char>(e.category_counts.size()));
  for (const auto& [c, n] : e.category_counts) {
    out.push_back(static_cast<char>(c));
    PutU32(&out, n);
  }
  if (e.sent_as_written) {  // version 2
    out.push_back(static_cast<char>(e.sent_as_written->size()));
    for (const auto& [c, n] : *e.sent_as_written) {
      out.push_back(static_cast<char>(c));
      PutU32(&out, n);
    }
  }
  PutU32(&out, e.operators);
  PutU32(&out, e.tokens_minted);
  PutU32(&out, e.tokens_reidentified);
  out.push_back(static_cast<char>(e.subjects.size()));
  for (const BlindIndex& s : e.subjects) out.append(reinterpret_cast<const char*>(s.data()), 32);

  const size_t payload = out.size() - kRecordHeaderSize;
  if (payload > kMaxRecordPayload) return absl::InvalidArgumentError("audit record: too large");
  for (int i = 0; i < 4; ++i)
    out[static_cast<size_t>(i)] = static_cast<char>((payload >> (8 * i)) & 0xff);
  out[4] = static_cast<char>(kRecordTypeEvent);
  out.append(kRecordTrailerSize, '\0');  // checksum: SealRecord
  return out;
}

void SealRecord(std::string* frame, uint64_t seq, const Hash& prev_hash) {
  char* p = frame->data();
  for (int i = 0; i < 8; ++i)
    p[kSeqOffset + static_cast<size_t>(i)] = static_cast<char>((seq >> (8 * i)) & 0xff);
  std::memcpy(p + kPrevOffset, prev_hash.data(), 32);
  const size_t crc_at = frame->size() - kRecordTrailerSize;
  const uint32_t crc = MaskCrc(Crc32c(std::string_view(*frame).substr(4, crc_at - 4)));
  for (int i = 0; i < 4; ++i)
    p[crc_at + static_cast<size_t>(i)] = static_cast<char>((crc >> (8 * i)) & 0xff);
}

Result<std::string> EncodeRecord(const Record& record) {
  AuditEvent e = record.event;
  e.Canonicalize();
  PHIGATE_RETURN_IF_ERROR(e.Validate());
  PHIGATE_ASSIGN_OR_RETURN(std::string out, EncodeEventFrame(e));
  SealRecord(&out, record.seq, record.prev_hash);
  return out;
}

namespace {
// Checks length, type and checksum; returns the payload length.
Result<uint32_t> CheckFrame(std::string_view frame) {
  if (frame.size() < kRecordHeaderSize + kRecordTrailerSize) return Corrupt("short frame", 0);
  uint32_t length = 0;
  for (int i = 0; i < 4; ++i) {
    length |= uint32_t{static_cast<uint8_t>(frame[static_cast<size_t>(i)])} << (8 * i);
  }
  if (length > kMaxRecordPayload ||
      frame.size() != kRecordHeaderSize + length + kRecordTrailerSize) {
    return Corrupt("length does not match the frame", 0);
  }
  const auto type = static_cast<uint8_t>(frame[4]);
  if (type != kRecordTypeEvent) return Corrupt("unknown record type", 4);
  uint32_t stored = 0;
  const size_t crc_at = kRecordHeaderSize + length;
  for (int i = 0; i < 4; ++i) {
    stored |= uint32_t{static_cast<uint8_t>(frame[crc_at + static_cast<size_t>(i)])} << (8 * i);
  }
  if (MaskCrc(Crc32c(frame.substr(4, 1 + length))) != stored) {
    return Corrupt("checksum mismatch", crc_at);
  }
  return length;
}
}  // namespace

Result<RecordHeader> ParseRecordHeader(std::string_view frame) {
  PHIGATE_ASSIGN_OR_RETURN(uint32_t length, CheckFrame(frame));
  Reader in(frame.substr(kRecordHeaderSize, length), kRecordHeaderSize);
  RecordHeader h;
  uint8_t version = 0, kind = 0, n = 0;
  uint64_t time = 0;
  std::string_view prev;
  if (!in.U8(&version) || (version != kRecordVersion && version != kRecordVersion1)) {
    return Corrupt("unknown version", in.offset());
  }
  if (!in.U64(&h.seq) || !in.Bytes(32, &prev) || !in.U64(&time) || !in.U8(&kind)) {
    return Corrupt("truncated header", in.offset());
  }
  std::memcpy(h.prev_hash.data(), prev.data(), 32);
  h.time_us = static_cast<int64_t>(time);
  if (kind < 1 || kind > kMaxEventKind) return Corrupt("bad kind", in.offset());
  if (!in.U8(&n) || n == 0 || !in.Bytes(n, &h.tenant) || !AuditId::IsValid(h.tenant)) {
    return Corrupt("bad tenant", in.offset());
  }
  // Skipped to reach the subjects (their contents are pinned by the leaf hash
  // and checked by DecodeRecord; only the layout matters here).
  std::string_view skip;
  auto str = [&] { return in.U8(&n) && in.Bytes(n, &skip); };
  for (int i = 0; i < 10; ++i) {
    if (!str()) return Corrupt("bad id field", in.offset());
  }
  uint8_t decision = 0, outcome = 0;
  if (!in.U8(&decision) || !in.U8(&outcome) || !in.U8(&n)) return Corrupt("truncated", in.offset());
  for (uint8_t i = 0, reasons = n; i < reasons; ++i) {
    if (!str()) return Corrupt("bad reason", in.offset());
  }
  uint32_t counts = 0;
  if (!in.U8(&n) || !in.Bytes(size_t{n} * 5, &skip) ||
      (version == kRecordVersion && (!in.U8(&n) || !in.Bytes(size_t{n} * 5, &skip))) ||
      !in.U32(&counts) || !in.U32(&counts) || !in.U32(&counts) || !in.U8(&n) ||
      !in.Bytes(size_t{n} * 32, &h.subjects)) {
    return Corrupt("truncated counts", in.offset());
  }
  if (!in.done()) return Corrupt("trailing bytes", in.offset());
  return h;
}

Result<Record> DecodeRecord(std::string_view frame) {
  PHIGATE_ASSIGN_OR_RETURN(uint32_t length, CheckFrame(frame));
  Reader in(frame.substr(kRecordHeaderSize, length), kRecordHeaderSize);
  Record r;
  AuditEvent& e = r.event;
  uint8_t version = 0, kind = 0, decision = 0, outcome = 0, n = 0;
  uint64_t time = 0;
  std::string_view prev;
  if (!in.U8(&version) || (version != kRecordVersion && version != kRecordVersion1)) {
    return Corrupt("unknown version", in.offset());
  }
  if (!in.U64(&r.seq) || !in.Bytes(32, &prev) || !in.U64(&time) || !in.U8(&kind)) {
    return Corrupt("truncated header", in.offset());
  }
  std::memcpy(r.prev_hash.data(), prev.data(), 32);
  e.time_us = static_cast<int64_t>(time);
  if (kind < 1 || kind > kMaxEventKind) return Corrupt("bad kind", in.offset());
  e.kind = static_cast<EventKind>(kind);
  AuditId tenant;
  if (!in.Id(&tenant, /*required=*/true)) return Corrupt("bad tenant", in.offset());
  e.tenant = TenantId(tenant.value());
  for (AuditId* id : {&e.user, &e.role, &e.feature, &e.purpose, &e.request_id, &e.vendor,
                      &e.endpoint, &e.model, &e.baa_id, &e.policy_version}) {
    if (!in.Id(id)) return Corrupt("bad id field", in.offset());
  }
  if (!in.U8(&decision) || !in.U8(&outcome)) return Corrupt("truncated", in.offset());
  e.decision = static_cast<Decision>(decision);
  e.outcome = static_cast<Outcome>(outcome);
  if (!in.U8(&n)) return Corrupt("truncated", in.offset());
  for (uint8_t i = 0; i < n; ++i) {
    AuditId reason;
    if (!in.Id(&reason, true)) return Corrupt("bad reason", in.offset());
    e.reasons.push_back(std::move(reason));
  }
  if (!in.U8(&n)) return Corrupt("truncated", in.offset());
  for (uint8_t i = 0; i < n; ++i) {
    uint8_t c = 0;
    uint32_t count = 0;
    if (!in.U8(&c) || !in.U32(&count)) return Corrupt("truncated category", in.offset());
    if (c >= kNumPhiCategories || count == 0) return Corrupt("bad category", in.offset());
    e.category_counts.emplace_back(static_cast<PhiCategory>(c), count);
  }
  if (version == kRecordVersion) {
    if (!in.U8(&n)) return Corrupt("truncated", in.offset());
    e.sent_as_written.emplace();
    for (uint8_t i = 0; i < n; ++i) {
      uint8_t c = 0;
      uint32_t count = 0;
      if (!in.U8(&c) || !in.U32(&count)) return Corrupt("truncated category", in.offset());
      if (c >= kNumPhiCategories || count == 0) return Corrupt("bad category", in.offset());
      e.sent_as_written->emplace_back(static_cast<PhiCategory>(c), count);
    }
  }
  if (!in.U32(&e.operators) || !in.U32(&e.tokens_minted) || !in.U32(&e.tokens_reidentified) ||
      !in.U8(&n)) {
    return Corrupt("truncated counts", in.offset());
  }
  for (uint8_t i = 0; i < n; ++i) {
    std::string_view s;
    if (!in.Bytes(32, &s)) return Corrupt("truncated subject", in.offset());
    BlindIndex b;
    std::memcpy(b.data(), s.data(), 32);
    e.subjects.push_back(b);
  }
  if (!in.done()) return Corrupt("trailing bytes", in.offset());
  PHIGATE_RETURN_IF_ERROR(e.Validate().ok() ? absl::OkStatus()
                                            : Corrupt("invalid event", kRecordHeaderSize));
  AuditEvent canon = e;
  canon.Canonicalize();
  if (!(canon == e)) return Corrupt("non-canonical payload", kRecordHeaderSize);
  return r;
}

}  // namespace phigate::audit
