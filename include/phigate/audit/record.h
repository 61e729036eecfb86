// The byte format of one audit record (docs/formats/audit_log.md): a frame
// (length, type, payload, checksum) around a canonical serialization of an
// AuditEvent plus its sequence number and the hash of the previous record.
//
// Encoding is canonical: equal events give equal bytes, and DecodeRecord
// accepts only bytes that EncodeRecord could have produced (so a record has
// exactly one hash). Decoding is safe on untrusted bytes (fuzzed).
#ifndef PHIGATE_AUDIT_RECORD_H_
#define PHIGATE_AUDIT_RECORD_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "phigate/audit/event.h"
#include "phigate/audit/merkle.h"
#include "phigate/core/status.h"

namespace phigate::audit {

inline constexpr uint8_t kRecordTypeEvent = 1;
// Version 2 adds AuditEvent::sent_as_written; an event without it is written
// as version 1, so a trail's existing records keep their bytes and hashes.
inline constexpr uint8_t kRecordVersion1 = 1;
inline constexpr uint8_t kRecordVersion = 2;
inline constexpr size_t kRecordHeaderSize = 5;   // length:4 + type:1
inline constexpr size_t kRecordTrailerSize = 4;  // crc32c:4
inline constexpr uint32_t kMaxRecordPayload = 1u << 16;

struct Record {
  uint64_t seq = 0;  // 0-based position in the tenant's trail
  Hash prev_hash{};  // leaf hash of record seq-1; all zero for seq 0
  AuditEvent event;
  friend bool operator==(const Record&, const Record&) = default;
};

// The framed record. InvalidArgument when the event does not Validate()
// (the event is canonicalised first on a copy).
Result<std::string> EncodeRecord(const Record& record);

// DataLoss (naming the byte offset) on a short frame, bad length, unknown
// type, checksum mismatch, malformed or non-canonical payload, trailing bytes.
Result<Record> DecodeRecord(std::string_view frame);

// The two halves of EncodeRecord, so the costly part runs on the caller's
// thread before the record's place in the trail is known (group commit):
// EncodeEventFrame serialises a canonical, valid event into a frame whose
// seq and prev_hash are still zero and whose checksum is not set yet;
// SealRecord writes them in. EncodeRecord(r) == Seal(EncodeEventFrame(r.event)).
// REQUIRES (EncodeEventFrame): event.Canonicalize() was applied and
// event.Validate() is OK; InvalidArgument when the payload is too large.
Result<std::string> EncodeEventFrame(const AuditEvent& event);
// REQUIRES: *frame came from EncodeEventFrame.
void SealRecord(std::string* frame, uint64_t seq, const Hash& prev_hash);

// What verification needs from a stored frame, parsed without allocating:
// the frame (length, type, checksum, version) is checked, the event payload is
// not decoded. `tenant` points into the frame.
struct RecordHeader {
  uint64_t seq = 0;
  Hash prev_hash{};
  int64_t time_us = 0;
  std::string_view tenant;
  // The subjects' blind indexes as stored: 32 bytes each, ascending (the
  // subject index rows of the store must name exactly these).
  std::string_view subjects;
  size_t num_subjects() const { return subjects.size() / 32; }
};
// DataLoss (naming the byte offset) as DecodeRecord for a bad frame.
Result<RecordHeader> ParseRecordHeader(std::string_view frame);

// LevelDB's mask of the frame trailer's CRC-32C (phigate::Crc32c, core/byte_io.h).
inline uint32_t MaskCrc(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

}  // namespace phigate::audit

#endif  // PHIGATE_AUDIT_RECORD_H_
