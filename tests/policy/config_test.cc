#include "phigate/policy/config.h"

#include "gtest/gtest.h"

namespace phigate::policy {
namespace {

TEST(Sha256Test, KnownVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Sha256Hex(std::string(1000, 'a')),
            "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
  EXPECT_EQ(Sha256Hex("pg_demo_clinician"),
            "f090d0ce704f6f8391a10b168ac3f5c9973670f8741ffccec66f22efcd54bd68");
}

TEST(DayTest, ParseFormatRoundTrip) {
  EXPECT_EQ(ParseDay("1970-01-01"), 0);
  EXPECT_EQ(ParseDay("2026-11-30"), 20787);
  EXPECT_EQ(FormatDay(20787), "2026-11-30");
  EXPECT_EQ(ParseDay("2028-02-29").has_value(), true);
  EXPECT_FALSE(ParseDay("2027-02-29").has_value());
  EXPECT_FALSE(ParseDay("2026-13-01").has_value());
  EXPECT_FALSE(ParseDay("2026-1-01").has_value());
  EXPECT_FALSE(ParseDay("20261101xx").has_value());
  EXPECT_EQ(DayOfUnixSeconds(20787 * 86400 + 86399), 20787);
  EXPECT_EQ(DayOfUnixSeconds(20788 * 86400), 20788);
}

TEST(BaaTest, ActiveWindowIsInclusiveOfBothDays) {
  Baa b;
  b.signed_day = *ParseDay("2026-01-01");
  b.expires_day = *ParseDay("2026-01-01");
  EXPECT_FALSE(b.ActiveAt(b.signed_day * 86400 - 1));
  EXPECT_TRUE(b.ActiveAt(b.signed_day * 86400));
  EXPECT_TRUE(b.ActiveAt(b.signed_day * 86400 + 86399));
  EXPECT_FALSE(b.ActiveAt(b.signed_day * 86400 + 86400));
}

TEST(BaaTest, CoversOnlyWhatItNames) {
  Baa b;
  b.endpoints = {"chat/completions"};
  b.models = {"gpt-4o", "claude-*"};
  EXPECT_TRUE(b.Covers("chat/completions", "gpt-4o", "us"));
  EXPECT_FALSE(b.Covers("chat/completions", "gpt-4o-mini", "us"));
  EXPECT_TRUE(b.Covers("chat/completions", "claude-x", "us"));
  EXPECT_FALSE(b.Covers("responses", "gpt-4o", "us"));
  b.regions = {"us"};
  EXPECT_FALSE(b.Covers("chat/completions", "gpt-4o", "eu"));
}

TEST(ActionTest, StrictnessOrder) {
  EXPECT_EQ(Stricter(Action::kAllow, Action::kTokenize), Action::kTokenize);
  EXPECT_EQ(Stricter(Action::kBlock, Action::kRedact), Action::kBlock);
  EXPECT_EQ(Stricter(Action::kSurrogate, Action::kAllow), Action::kSurrogate);
  for (Action a :
       {Action::kAllow, Action::kSurrogate, Action::kTokenize, Action::kRedact, Action::kBlock}) {
    EXPECT_EQ(ParseAction(ActionName(a)), a);
  }
  EXPECT_FALSE(ParseAction("maybe").has_value());
  EXPECT_EQ(NormalizeEndpoint("/v1/chat/completions/"), "chat/completions");
  EXPECT_EQ(ReasonCodeName(ReasonCode::kAllowed), "ALLOWED");
  EXPECT_EQ(ReasonCodeName(ReasonCode::kBaaNotCovering), "BAA_NOT_COVERING");
}

}  // namespace
}  // namespace phigate::policy
