#include "phigate/crypto/keyring.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"
#include "phigate/crypto/encoding.h"
#include "phigate/crypto/key_provider.h"
#include "tests/testing/status_matchers.h"

namespace phigate::crypto {
namespace {

constexpr char kKeyA[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
constexpr char kKeyB[] = "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

std::unique_ptr<LocalKeyProvider> Provider(const char* hex) {
  auto p = LocalKeyProvider::FromText(hex);
  EXPECT_TRUE(p.ok()) << p.status();
  return std::move(*p);
}

TEST(LocalKeyProviderTest, ParsesHexAndBase64ToTheSameKey) {
  auto hex = Provider(kKeyA);
  auto raw = *HexDecode(kKeyA);
  auto b64 = LocalKeyProvider::FromText("  " + Base64Encode(raw) + "\n");
  ASSERT_TRUE(b64.ok()) << b64.status();
  EXPECT_EQ(hex->key_id(), (*b64)->key_id());
  EXPECT_NE(hex->key_id(), Provider(kKeyB)->key_id());
}

TEST(LocalKeyProviderTest, RejectsMalformedKeys) {
  EXPECT_EQ(LocalKeyProvider::FromText("abc").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(LocalKeyProvider::FromText(std::string(64, 'z')).ok());
}

TEST(LocalKeyProviderTest, MissingEnvironmentKeyIsAClearError) {
  unsetenv("PHIGATE_MASTER_KEY");
  auto p = LocalKeyProvider::FromEnvironment();
  EXPECT_EQ(p.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(p.status().message()).find("PHIGATE_MASTER_KEY"), std::string::npos);
  setenv("PHIGATE_MASTER_KEY", kKeyA, 1);
  auto q = LocalKeyProvider::FromEnvironment();
  ASSERT_TRUE(q.ok());
  EXPECT_EQ((*q)->key_id(), Provider(kKeyA)->key_id());
  unsetenv("PHIGATE_MASTER_KEY");
}

TEST(LocalKeyProviderTest, ReadsKeyFile) {
  auto path = std::filesystem::temp_directory_path() / "phigate_keyring_test.key";
  std::ofstream(path) << kKeyB << "\n";
  using std::filesystem::perms;
  std::filesystem::permissions(path, perms::owner_read | perms::owner_write);
  auto p = LocalKeyProvider::FromFile(path.string());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ((*p)->key_id(), Provider(kKeyB)->key_id());
  // Readable by others: refused, as ssh refuses such a private key.
  std::filesystem::permissions(path, perms::owner_read | perms::group_read | perms::others_read);
  auto shared = LocalKeyProvider::FromFile(path.string());
  EXPECT_EQ(shared.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(shared.status().message()).find("chmod 600"), std::string::npos);
  std::filesystem::remove(path);
  EXPECT_EQ(LocalKeyProvider::FromFile(path.string()).status().code(), absl::StatusCode::kNotFound);
  // A folder or a device is a clear error, not an exception (or reading
  // /dev/zero until memory runs out).
  EXPECT_EQ(
      LocalKeyProvider::FromFile(std::filesystem::temp_directory_path().string()).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LocalKeyProvider::FromFile("/dev/zero").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(LocalKeyProviderTest, WrongMasterKeyIsFailedPreconditionNamingKeyIds) {
  auto a = Provider(kKeyA);
  auto b = Provider(kKeyB);
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string w, a->Wrap(std::string(32, 'd'), "ctx"));
  auto r = b->Unwrap(w, "ctx");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(r.status().message()).find(a->key_id()), std::string::npos);
  EXPECT_EQ(a->Unwrap(w, "other ctx").status().code(), absl::StatusCode::kDataLoss);
  PHIGATE_ASSERT_OK_AND_ASSIGN(SecretBytes d, a->Unwrap(w, "ctx"));
  EXPECT_EQ(d.view(), std::string(32, 'd'));
}

TEST(KeyringTest, RotationNewVersionEncryptsOldDecrypts) {
  auto p = Provider(kKeyA);
  std::vector<WrappedKey> keys;
  keys.push_back(*NewWrappedKey(*p, "acme", KeyPurpose::kIndex, 1, 100));
  keys.push_back(*NewWrappedKey(*p, "acme", KeyPurpose::kData, 1, 100));
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto ring1, Keyring::Unwrap(*p, "acme", keys));
  EXPECT_EQ(ring1->current_version(), 1u);
  PHIGATE_ASSERT_OK_AND_ASSIGN(const Aead* v1, ring1->DataKey(1));
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string old_sealed, v1->Seal("old", "ad"));

  keys.push_back(*NewWrappedKey(*p, "acme", KeyPurpose::kData, 2, 200));
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto ring2, Keyring::Unwrap(*p, "acme", keys));
  EXPECT_EQ(ring2->current_version(), 2u);
  PHIGATE_ASSERT_OK_AND_ASSIGN(const Aead* old_key, ring2->DataKey(1));
  EXPECT_EQ(*old_key->Open(old_sealed, "ad"), "old");
  PHIGATE_ASSERT_OK_AND_ASSIGN(const Aead* v2, ring2->DataKey(2));
  EXPECT_FALSE(v2->Open(old_sealed, "ad").ok());
  EXPECT_EQ(ring2->DataKey(3).status().code(), absl::StatusCode::kNotFound);
}

TEST(KeyringTest, SerializeParseAndCorruption) {
  auto p = Provider(kKeyA);
  PHIGATE_ASSERT_OK_AND_ASSIGN(WrappedKey k, NewWrappedKey(*p, "acme", KeyPurpose::kData, 7, 5));
  PHIGATE_ASSERT_OK_AND_ASSIGN(WrappedKey back, WrappedKey::Parse(k.Serialize()));
  EXPECT_EQ(back.version, 7u);
  EXPECT_EQ(back.wrapped, k.wrapped);
  EXPECT_EQ(back.master_key_id, p->key_id());
  EXPECT_EQ(WrappedKey::Parse("pgk1|1|x").status().code(), absl::StatusCode::kDataLoss);
  // A key wrapped for another tenant does not unwrap here (context binding).
  EXPECT_EQ(Keyring::Unwrap(*p, "other", {k}).status().code(), absl::StatusCode::kDataLoss);
}

TEST(KeyringTest, RewrapMovesKeysToNewMasterWithoutChangingThem) {
  auto a = Provider(kKeyA);
  auto b = Provider(kKeyB);
  std::vector<WrappedKey> keys = {*NewWrappedKey(*a, "t", KeyPurpose::kIndex, 1, 0),
                                  *NewWrappedKey(*a, "t", KeyPurpose::kData, 1, 0)};
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto ring_a, Keyring::Unwrap(*a, "t", keys));
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string sealed, (*ring_a->DataKey(1))->Seal("v", "ad"));
  std::vector<WrappedKey> moved;
  for (const auto& k : keys) moved.push_back(*RewrapKey(k, "t", *a, *b));
  EXPECT_EQ(Keyring::Unwrap(*a, "t", moved).status().code(), absl::StatusCode::kFailedPrecondition);
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto ring_b, Keyring::Unwrap(*b, "t", moved));
  EXPECT_EQ(*(*ring_b->DataKey(1))->Open(sealed, "ad"), "v");
}

}  // namespace
}  // namespace phigate::crypto
