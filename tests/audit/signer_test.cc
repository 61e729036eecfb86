#include "phigate/crypto/signer.h"

#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace phigate::crypto {
namespace {

std::string Str(const Sha256Digest& d) {
  return ToHex(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

TEST(DigestTest, Sha256KnownAnswer) {
  EXPECT_EQ(Str(Sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Str(Sha256("a", "b", "c")), Str(Sha256("abc")));
}

TEST(DigestTest, HmacRfc4231Case2) {
  EXPECT_EQ(Str(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(DigestTest, HkdfRfc5869Case1) {
  const std::string ikm(22, '\x0b');
  const auto salt = FromHex("000102030405060708090a0b0c").value();
  const auto info = FromHex("f0f1f2f3f4f5f6f7f8f9").value();
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string okm, HkdfSha256(ikm, salt, info, 42));
  EXPECT_EQ(ToHex(okm),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
  EXPECT_FALSE(HkdfSha256("", salt, info, 42).ok());
}

TEST(HexTest, RoundTripAndErrors) {
  EXPECT_EQ(FromHex(ToHex("\x01\xff")).value(), "\x01\xff");
  EXPECT_FALSE(FromHex("abc").ok());
  EXPECT_FALSE(FromHex("zz").ok());
}

TEST(Ed25519Test, Rfc8032Test1PublicKeyAndSignature) {
  const auto seed =
      FromHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60").value();
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto signer, Ed25519Signer::FromSeed(seed));
  EXPECT_EQ(ToHex(signer->RawPublicKey()),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string sig, signer->Sign(""));
  EXPECT_EQ(ToHex(sig),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e3"
            "9701cf9b46bd25bf5f0595bbe24655141438e7a100b");
}

TEST(Ed25519Test, VerifyDetectsFlippedByteAndWrongMessage) {
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto signer, Ed25519Signer::Generate());
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto verifier, Ed25519Verifier::FromPem(signer->PublicKeyPem()));
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string sig, signer->Sign("tree head"));
  PHIGATE_EXPECT_OK(verifier->Verify("tree head", sig));
  std::string bad = sig;
  bad[10] = static_cast<char>(bad[10] ^ 1);
  EXPECT_EQ(verifier->Verify("tree head", bad).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(verifier->Verify("tree heae", sig).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(verifier->Verify("tree head", sig.substr(1)).code(), absl::StatusCode::kDataLoss);
}

TEST(Ed25519Test, PemRoundTrip) {
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto signer, Ed25519Signer::Generate());
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string pem, signer->PrivateKeyPem());
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto again, Ed25519Signer::FromPem(pem));
  EXPECT_EQ(again->RawPublicKey(), signer->RawPublicKey());
  EXPECT_FALSE(Ed25519Signer::FromPem("not a key").ok());
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto v, Ed25519Verifier::FromPem(ToHex(signer->RawPublicKey())));
  EXPECT_EQ(v->RawPublicKey(), signer->RawPublicKey());
}

}  // namespace
}  // namespace phigate::crypto
