#include "phigate/audit/subject.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "phigate/crypto/signer.h"
#include "tests/testing/status_matchers.h"

namespace phigate::audit {
namespace {

const std::string kMaster(32, '\x42');

TEST(SubjectIndexTest, NormalisesCaseSpacesPunctuationAndLabels) {
  EXPECT_EQ(NormalizeSubjectIdentifier("MRN 4429871"), "4429871");
  EXPECT_EQ(NormalizeSubjectIdentifier("mrn: 442-9871"), "4429871");
  EXPECT_EQ(NormalizeSubjectIdentifier("Medical Record Number #4429871"), "4429871");
  EXPECT_EQ(NormalizeSubjectIdentifier("  4429871 "), "4429871");
  EXPECT_EQ(NormalizeSubjectIdentifier("pt id zq-88a"), "ZQ88A");
  EXPECT_EQ(NormalizeSubjectIdentifier("MRN"), "MRN");  // a lone label is the value
  // The other indexed identifiers, with their labels (the gateway indexes the
  // bare value: "SSN 123-45-6789" found nothing).
  EXPECT_EQ(NormalizeSubjectIdentifier("SSN 123-45-6789"), "123456789");
  EXPECT_EQ(NormalizeSubjectIdentifier("Social Security Number: 123-45-6789"), "123456789");
  EXPECT_EQ(NormalizeSubjectIdentifier("Member ID: XJH448812931"), "XJH448812931");
  EXPECT_EQ(NormalizeSubjectIdentifier("member id xjh448812931"), "XJH448812931");
  EXPECT_EQ(NormalizeSubjectIdentifier("Policy No. W2291-88"), "W229188");
}

TEST(SubjectIndexTest, SamePatientSameIndexOtherTenantOtherIndex) {
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string k1, TenantAuditKey(kMaster, TenantId("acme")));
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string k2, TenantAuditKey(kMaster, TenantId("globex")));
  EXPECT_NE(k1, k2);
  PHIGATE_ASSERT_OK_AND_ASSIGN(BlindIndex a, SubjectIndex(k1, "MRN 4429871"));
  PHIGATE_ASSERT_OK_AND_ASSIGN(BlindIndex b, SubjectIndex(k1, "mrn#442 9871"));
  PHIGATE_ASSERT_OK_AND_ASSIGN(BlindIndex c, SubjectIndex(k2, "MRN 4429871"));
  PHIGATE_ASSERT_OK_AND_ASSIGN(BlindIndex d, SubjectIndex(k1, "MRN 4429872"));
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_NE(a, d);
}

// An MRN and an SSN with the same digits are two patients: the category is
// part of the index the gateway records, and a labelled query looks up its
// own category (plus the category-less index of older trails).
TEST(SubjectIndexTest, SameDigitsOfAnotherCategoryAreAnotherPatient) {
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string k, TenantAuditKey(kMaster, TenantId("acme")));
  PHIGATE_ASSERT_OK_AND_ASSIGN(BlindIndex ssn,
                               SubjectIndexFor(k, PhiCategory::kSsn, "123-45-6789"));
  PHIGATE_ASSERT_OK_AND_ASSIGN(BlindIndex mrn, SubjectIndexFor(k, PhiCategory::kMrn, "123456789"));
  EXPECT_NE(ssn, mrn);
  PHIGATE_ASSERT_OK_AND_ASSIGN(BlindIndex ssn2,
                               SubjectIndexFor(k, PhiCategory::kSsn, "SSN 123 45 6789"));
  EXPECT_EQ(ssn, ssn2);
  EXPECT_FALSE(SubjectIndexFor(k, PhiCategory::kName, "123456789").ok());

  using V = std::vector<PhiCategory>;
  EXPECT_EQ(SubjectCategoriesOf("SSN 123-45-6789"), V{PhiCategory::kSsn});
  EXPECT_EQ(SubjectCategoriesOf("Member ID: XJH448812931"), V{PhiCategory::kHealthPlan});
  EXPECT_EQ(SubjectCategoriesOf("mrn: 442-9871"), V{PhiCategory::kMrn});
  EXPECT_EQ(SubjectCategoriesOf("ID 442-9871"),
            (V{PhiCategory::kMrn, PhiCategory::kSsn, PhiCategory::kHealthPlan}));
  EXPECT_EQ(SubjectCategoriesOf("123456789").size(), 3u);

  PHIGATE_ASSERT_OK_AND_ASSIGN(std::vector<BlindIndex> q,
                               SubjectIndexesToQuery(k, "MRN 123456789"));
  PHIGATE_ASSERT_OK_AND_ASSIGN(BlindIndex legacy, SubjectIndex(k, "123456789"));
  EXPECT_EQ(q, (std::vector<BlindIndex>{mrn, legacy}));
  EXPECT_EQ(std::count(q.begin(), q.end(), ssn), 0) << "an MRN query never finds the SSN";
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::vector<BlindIndex> bare, SubjectIndexesToQuery(k, "123456789"));
  EXPECT_EQ(bare.size(), 4u);
  EXPECT_EQ(std::count(bare.begin(), bare.end(), ssn), 1);
}

TEST(SubjectIndexTest, RejectsEmptyAndShortKey) {
  EXPECT_FALSE(SubjectIndex(std::string(32, 'k'), " -- ").ok());
  EXPECT_FALSE(SubjectIndex("short", "MRN 1").ok());
}

TEST(SubjectIndexTest, MasterKeyFromHex) {
  EXPECT_FALSE(MasterKeyFromHex("abcd").ok());
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string k, MasterKeyFromHex(std::string(64, 'a')));
  EXPECT_EQ(k.size(), 32u);
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto s1, SigningKeyFromMaster(k));
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto s2, SigningKeyFromMaster(k));
  EXPECT_EQ(s1->RawPublicKey(), s2->RawPublicKey());
}

// The audit commands read the master key (--master-key-file) and a signing
// key (PHIGATE_AUDIT_SIGNING_KEY) as the vault reads its key file: a file
// others can read is refused, as ssh refuses such a private key.
TEST(SubjectIndexTest, KeyFilesOthersCanReadAreRefused) {
  using std::filesystem::perms;
  const auto dir = std::filesystem::temp_directory_path();
  const auto master = dir / ("phigate_audit_master_" + std::to_string(::getpid()) + ".key");
  std::ofstream(master) << std::string(64, 'a') << "\n";
  std::filesystem::permissions(master, perms::owner_read | perms::owner_write);
  PHIGATE_EXPECT_OK(MasterKeyFromFile(master.string()).status());
  std::filesystem::permissions(master, perms::owner_read | perms::owner_write | perms::others_read);
  auto shared = MasterKeyFromFile(master.string());
  EXPECT_EQ(shared.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(shared.status().message()).find("chmod 600"), std::string::npos);
  EXPECT_EQ(MasterKeyFromFile(dir.string()).status().code(), absl::StatusCode::kInvalidArgument);
  std::filesystem::remove(master);

  PHIGATE_ASSERT_OK_AND_ASSIGN(auto signer, crypto::Ed25519Signer::Generate());
  const auto pem = dir / ("phigate_audit_signing_" + std::to_string(::getpid()) + ".pem");
  std::ofstream(pem) << signer->PrivateKeyPem().value();
  std::filesystem::permissions(pem, perms::owner_read | perms::owner_write);
  PHIGATE_EXPECT_OK(crypto::Ed25519Signer::FromFile(pem.string()).status());
  std::filesystem::permissions(pem, perms::owner_read | perms::owner_write | perms::group_read);
  EXPECT_EQ(crypto::Ed25519Signer::FromFile(pem.string()).status().code(),
            absl::StatusCode::kFailedPrecondition);
  std::filesystem::remove(pem);
}

}  // namespace
}  // namespace phigate::audit
