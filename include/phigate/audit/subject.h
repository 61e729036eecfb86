// Subject blind indexes and the audit keys they are made with.
//
// A patient is recorded in audit events only as SubjectIndex(tenant_key, id):
// HMAC-SHA256 under a per-tenant audit key of the normalised identifier. The
// same patient gives the same index however the identifier was written
// ("MRN 4429871", "mrn: 442-9871", "4429871"), different tenants give
// unrelated indexes, and without the key the index reveals nothing.
//
// Keys: the tenant audit key is HKDF-SHA256(master key, salt
// "phigate-audit-v1", info "subject-index:" + tenant id), 32 bytes. The master
// key comes from env PHIGATE_MASTER_KEY (hex, >= 32 bytes) or a key file
// holding the same hex. The tree-head signing key defaults to an Ed25519 seed
// derived from the same master key (info "audit-signing-key"), unless a PEM
// key file is given (PHIGATE_AUDIT_SIGNING_KEY = path).
//
// Example:
//   PHIGATE_ASSIGN_OR_RETURN(std::string master, MasterKeyFromEnv());
//   PHIGATE_ASSIGN_OR_RETURN(std::string key, TenantAuditKey(master, tenant));
//   PHIGATE_ASSIGN_OR_RETURN(BlindIndex s, SubjectIndex(key, "MRN 4429871"));
#ifndef PHIGATE_AUDIT_SUBJECT_H_
#define PHIGATE_AUDIT_SUBJECT_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "phigate/audit/event.h"
#include "phigate/core/ids.h"
#include "phigate/core/status.h"
#include "phigate/crypto/signer.h"

namespace phigate::audit {

inline constexpr char kMasterKeyEnv[] = "PHIGATE_MASTER_KEY";
inline constexpr char kSigningKeyEnv[] = "PHIGATE_AUDIT_SIGNING_KEY";

// Upper-cases, drops a leading label (MRN, MR, MEDICAL RECORD NUMBER, PATIENT
// ID, ID, NO, NUMBER, #, ...) and every character that is not A-Z or 0-9.
std::string NormalizeSubjectIdentifier(std::string_view identifier);

// The subject index of an identifier of `category` (MRN, SSN or HEALTH_PLAN):
// HMAC-SHA256 of "phigate-subject-v2", the category's name and the normalised
// identifier, so an MRN and an SSN with the same digits are two patients.
// What the gateway records since session 22. InvalidArgument when the key is
// shorter than 16 bytes, the category names no patient, or the identifier
// normalises to nothing (the message holds no part of the identifier).
Result<BlindIndex> SubjectIndexFor(std::string_view tenant_key, PhiCategory category,
                                   std::string_view identifier);

// The categories an identifier asked for can be: the one its label names
// ("SSN 123-45-6789" -> SSN, "Member ID: X1" -> HEALTH_PLAN, "MRN 4" -> MRN),
// else all three. A query looks for each, and for the legacy index below.
std::vector<PhiCategory> SubjectCategoriesOf(std::string_view identifier);

// The category-less index of trails written before session 22 ("phigate-
// subject-v1"): an MRN and an SSN of the same digits share it. Same errors.
Result<BlindIndex> SubjectIndex(std::string_view tenant_key, std::string_view identifier);

// Every index a query for `identifier` must look up: SubjectIndexFor for each
// of SubjectCategoriesOf(identifier), then the legacy SubjectIndex.
Result<std::vector<BlindIndex>> SubjectIndexesToQuery(std::string_view tenant_key,
                                                      std::string_view identifier);

// 32-byte per-tenant audit key from the master key.
Result<std::string> TenantAuditKey(std::string_view master_key, const TenantId& tenant);

// The master key from hex text (>= 64 hex digits); from env PHIGATE_MASTER_KEY
// (NotFound when unset); from a file holding the hex.
Result<std::string> MasterKeyFromHex(std::string_view hex);
Result<std::string> MasterKeyFromEnv();
Result<std::string> MasterKeyFromFile(const std::string& path);

// The tree-head signer: from the PEM/hex file named by PHIGATE_AUDIT_SIGNING_KEY
// when set, else derived from the master key.
Result<std::unique_ptr<crypto::Ed25519Signer>> SigningKeyFromMaster(std::string_view master_key);
Result<std::unique_ptr<crypto::Ed25519Signer>> SigningKeyFromEnv(std::string_view master_key);

std::string BlindIndexHex(const BlindIndex& b);
Result<BlindIndex> BlindIndexFromHex(std::string_view hex);

}  // namespace phigate::audit

#endif  // PHIGATE_AUDIT_SUBJECT_H_
