// Record framing and canonical payload codec; see docs/formats/audit_log.md.
#include "phigate/audit/record.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "phigate/core/byte_io.h"

namespace phigate::audit {
namespace {

void PutStr(std::string* out, const std::string& s) { PutLengthPrefixed<uint8_t>(out, s); }

// An optional id: length 0 = not set.
bool ReadId(ByteReader& in, AuditId* id, bool required = false) {
  std::string_view s;
  if (!in.LengthPrefixed<uint8_t>(&s)) return false;
  if (s.empty()) {
    *id = AuditId();
    return !required;
  }
  auto r = AuditId::Make(s);
  if (!r.ok()) return false;
  *id = *std::move(r);
  return true;
}

Status Corrupt(std::string_view what, size_t offset) {
  return absl::DataLossError(absl::StrCat("audit record: ", ToAbsl(what), " at byte ", offset));
}

}  // namespace

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
  PutLe<uint64_t>(&out, static_cast<uint64_t>(e.time_us));
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
    PutLe<uint32_t>(&out, n);
  }
  if (e.sent_as_written) {  // version 2
    out.push_back(static_cast<char>(e.sent_as_written->size()));
    for (const auto& [c, n] : *e.sent_as_written) {
      out.push_back(static_cast<char>(c));
      PutLe<uint32_t>(&out, n);
    }
  }
  PutLe<uint32_t>(&out, e.operators);
  PutLe<uint32_t>(&out, e.tokens_minted);
  PutLe<uint32_t>(&out, e.tokens_reidentified);
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
  ByteReader in(frame.substr(kRecordHeaderSize, length), kRecordHeaderSize);
  RecordHeader h;
  uint8_t version = 0, kind = 0, n = 0;
  uint64_t time = 0;
  std::string_view prev;
  if (!in.Get(&version) || (version != kRecordVersion && version != kRecordVersion1)) {
    return Corrupt("unknown version", in.offset());
  }
  if (!in.Get(&h.seq) || !in.Bytes(32, &prev) || !in.Get(&time) || !in.Get(&kind)) {
    return Corrupt("truncated header", in.offset());
  }
  std::memcpy(h.prev_hash.data(), prev.data(), 32);
  h.time_us = static_cast<int64_t>(time);
  if (kind < 1 || kind > kMaxEventKind) return Corrupt("bad kind", in.offset());
  if (!in.Get(&n) || n == 0 || !in.Bytes(n, &h.tenant) || !AuditId::IsValid(h.tenant)) {
    return Corrupt("bad tenant", in.offset());
  }
  // Skipped to reach the subjects (their contents are pinned by the leaf hash
  // and checked by DecodeRecord; only the layout matters here).
  std::string_view skip;
  auto str = [&] { return in.Get(&n) && in.Bytes(n, &skip); };
  for (int i = 0; i < 10; ++i) {
    if (!str()) return Corrupt("bad id field", in.offset());
  }
  uint8_t decision = 0, outcome = 0;
  if (!in.Get(&decision) || !in.Get(&outcome) || !in.Get(&n))
    return Corrupt("truncated", in.offset());
  for (uint8_t i = 0, reasons = n; i < reasons; ++i) {
    if (!str()) return Corrupt("bad reason", in.offset());
  }
  uint32_t counts = 0;
  if (!in.Get(&n) || !in.Bytes(size_t{n} * 5, &skip) ||
      (version == kRecordVersion && (!in.Get(&n) || !in.Bytes(size_t{n} * 5, &skip))) ||
      !in.Get(&counts) || !in.Get(&counts) || !in.Get(&counts) || !in.Get(&n) ||
      !in.Bytes(size_t{n} * 32, &h.subjects)) {
    return Corrupt("truncated counts", in.offset());
  }
  if (!in.done()) return Corrupt("trailing bytes", in.offset());
  return h;
}

Result<Record> DecodeRecord(std::string_view frame) {
  PHIGATE_ASSIGN_OR_RETURN(uint32_t length, CheckFrame(frame));
  ByteReader in(frame.substr(kRecordHeaderSize, length), kRecordHeaderSize);
  Record r;
  AuditEvent& e = r.event;
  uint8_t version = 0, kind = 0, decision = 0, outcome = 0, n = 0;
  uint64_t time = 0;
  std::string_view prev;
  if (!in.Get(&version) || (version != kRecordVersion && version != kRecordVersion1)) {
    return Corrupt("unknown version", in.offset());
  }
  if (!in.Get(&r.seq) || !in.Bytes(32, &prev) || !in.Get(&time) || !in.Get(&kind)) {
    return Corrupt("truncated header", in.offset());
  }
  std::memcpy(r.prev_hash.data(), prev.data(), 32);
  e.time_us = static_cast<int64_t>(time);
  if (kind < 1 || kind > kMaxEventKind) return Corrupt("bad kind", in.offset());
  e.kind = static_cast<EventKind>(kind);
  AuditId tenant;
  if (!ReadId(in, &tenant, /*required=*/true)) return Corrupt("bad tenant", in.offset());
  e.tenant = TenantId(tenant.value());
  for (AuditId* id : {&e.user, &e.role, &e.feature, &e.purpose, &e.request_id, &e.vendor,
                      &e.endpoint, &e.model, &e.baa_id, &e.policy_version}) {
    if (!ReadId(in, id)) return Corrupt("bad id field", in.offset());
  }
  if (!in.Get(&decision) || !in.Get(&outcome)) return Corrupt("truncated", in.offset());
  e.decision = static_cast<Decision>(decision);
  e.outcome = static_cast<Outcome>(outcome);
  if (!in.Get(&n)) return Corrupt("truncated", in.offset());
  for (uint8_t i = 0; i < n; ++i) {
    AuditId reason;
    if (!ReadId(in, &reason, true)) return Corrupt("bad reason", in.offset());
    e.reasons.push_back(std::move(reason));
  }
  if (!in.Get(&n)) return Corrupt("truncated", in.offset());
  for (uint8_t i = 0; i < n; ++i) {
    uint8_t c = 0;
    uint32_t count = 0;
    if (!in.Get(&c) || !in.Get(&count)) return Corrupt("truncated category", in.offset());
    if (c >= kNumPhiCategories || count == 0) return Corrupt("bad category", in.offset());
    e.category_counts.emplace_back(static_cast<PhiCategory>(c), count);
  }
  if (version == kRecordVersion) {
    if (!in.Get(&n)) return Corrupt("truncated", in.offset());
    e.sent_as_written.emplace();
    for (uint8_t i = 0; i < n; ++i) {
      uint8_t c = 0;
      uint32_t count = 0;
      if (!in.Get(&c) || !in.Get(&count)) return Corrupt("truncated category", in.offset());
      if (c >= kNumPhiCategories || count == 0) return Corrupt("bad category", in.offset());
      e.sent_as_written->emplace_back(static_cast<PhiCategory>(c), count);
    }
  }
  if (!in.Get(&e.operators) || !in.Get(&e.tokens_minted) || !in.Get(&e.tokens_reidentified) ||
      !in.Get(&n)) {
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
