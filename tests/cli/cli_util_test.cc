#include "src/cli/cli_util.h"

#include <cstdio>
#include <string>

#include "gtest/gtest.h"

namespace phigate::cli {
namespace {

TEST(LooksBinaryTest, TextWithFewNulsIsText) {
  EXPECT_FALSE(LooksBinary(""));
  EXPECT_FALSE(LooksBinary("plain text\n"));
  EXPECT_FALSE(LooksBinary(std::string("MRN 1\0 seen\0 today\n", 20)));
  std::string long_text(10000, 'a');
  long_text[500] = '\0';
  EXPECT_FALSE(LooksBinary(long_text));
  // Control bytes alone (terminal escapes in a log) do not make it binary.
  EXPECT_FALSE(LooksBinary(std::string(100, '\x1b') + std::string(100, 'a')));
}

TEST(LooksBinaryTest, NulDenseOrControlHeavyIsBinary) {
  EXPECT_TRUE(LooksBinary(std::string(100, '\0')));
  std::string sparse(10000, 'a');
  for (size_t i = 0; i < 10000; i += 50) sparse[i] = '\0';  // 2 %
  EXPECT_TRUE(LooksBinary(sparse));
  std::string header("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10\x01\x02\x03", 24);
  EXPECT_TRUE(LooksBinary(header));
}

// Compressed or random bytes hold few NULs (0.4 %) but are mostly not UTF-8.
TEST(LooksBinaryTest, MostlyInvalidUtf8IsBinary) {
  std::string noise(65536, '\0');
  uint32_t x = 12345;
  for (char& c : noise) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>((x >> 16) & 0xff);
  }
  EXPECT_TRUE(LooksBinary(noise));
  // Latin-1 text with accented letters (each an invalid byte) stays text.
  std::string latin1;
  while (latin1.size() < 10000) latin1 += "Patient vu le 3 mai \xe0 l'h\xf4pital, tr\xe8s bien. ";
  EXPECT_FALSE(LooksBinary(latin1));
  std::string utf8;
  while (utf8.size() < 10000)
    utf8 += "Vu \xc3\xa0 l'h\xc3\xb4pital \xe2\x80\x94 tr\xc3\xa8s bien. ";
  EXPECT_FALSE(LooksBinary(utf8));
  EXPECT_FALSE(LooksBinary("x\xffy MRN 1\n"));  // one stray byte in a short note
}

TEST(ReadLineTest, KeepsNulBytesAndLongLines) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  const std::string long_line(300000, 'x');
  std::string data = std::string("a\0b\n", 4) + long_line + "\nlast";
  ASSERT_EQ(std::fwrite(data.data(), 1, data.size(), f), data.size());
  std::rewind(f);
  std::string_view line;
  ASSERT_TRUE(ReadLine(f, &line, "tmp"));
  EXPECT_EQ(line, std::string_view("a\0b", 3));
  ASSERT_TRUE(ReadLine(f, &line, "tmp"));
  EXPECT_EQ(line.size(), long_line.size());
  ASSERT_TRUE(ReadLine(f, &line, "tmp"));
  EXPECT_EQ(line, "last");
  EXPECT_FALSE(ReadLine(f, &line, "tmp"));
  std::fclose(f);
}

// Store URLs go into error messages: a PostgreSQL password never does.
TEST(UrlForDisplayTest, HidesThePasswordOnly) {
  EXPECT_EQ(UrlForDisplay("postgres://phigate:s3cr3t-synthetic@db.example:5432/phigate"),
            "postgres://phigate:***@db.example:5432/phigate");
  EXPECT_EQ(UrlForDisplay("postgresql://u:p:q@h/db?sslmode=require"),
            "postgresql://u:***@h/db?sslmode=require");
  EXPECT_EQ(UrlForDisplay("postgres://phigate@db.example/phigate"),
            "postgres://phigate@db.example/phigate");
  EXPECT_EQ(UrlForDisplay("sqlite:///var/lib/phigate/vault.db"),
            "sqlite:///var/lib/phigate/vault.db");
  EXPECT_EQ(UrlForDisplay("sqlite:///tmp/a:b@c.db"), "sqlite:///tmp/a:b@c.db");
  EXPECT_EQ(UrlForDisplay("vault.db"), "vault.db");
}

TEST(HumanBytesTest, Units) {
  EXPECT_EQ(HumanBytes(512), "512 B");
  EXPECT_EQ(HumanBytes(2500), "2.5 kB");
  EXPECT_EQ(HumanBytes(12.3e6), "12.3 MB");
}

}  // namespace
}  // namespace phigate::cli
