// ParseJson and DumpJson give exactly what nlohmann gives: the same tree for
// every text (discarded for the malformed ones), the same bytes for every tree.
#include "src/gateway/json_io.h"

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace phigate::gateway {
namespace {

using nlohmann::json;

json Nlohmann(std::string_view text) { return json::parse(text, nullptr, false); }

std::string NlohmannDump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// The same kind of value everywhere (== compares 1, 1u and 1.0 equal).
bool SameKinds(const json& a, const json& b) {
  if (a.type() != b.type()) return false;
  if (a.is_array()) {
    for (size_t i = 0; i < a.size(); ++i) {
      if (!SameKinds(a[i], b[i])) return false;
    }
  }
  if (a.is_object()) {
    for (auto it = a.begin(); it != a.end(); ++it) {
      if (!SameKinds(it.value(), b.at(it.key()))) return false;
    }
  }
  return true;
}

void ExpectSameTree(const json& a, const json& b, const std::string& where) {
  ASSERT_EQ(a.is_discarded(), b.is_discarded()) << where;
  if (a.is_discarded()) return;
  ASSERT_EQ(a, b) << where;
  EXPECT_TRUE(SameKinds(a, b)) << where;
  EXPECT_EQ(NlohmannDump(a), NlohmannDump(b)) << where;
}

TEST(JsonIoTest, ParsesEveryTextAsNlohmannDoes) {
  const std::vector<std::string> texts = {
      R"({"model": "m", "messages": [{"role": "user", "content": "caf\u00e9 \ud83d\ude00"}]})",
      R"({"a": 1, "a": 2, "b": {"c": [true, false, null]}})",  // a repeated key: the last
      "0",
      "-5",
      "7",
      "1.0",
      "-0.0",
      "1e5",
      "1E-5",
      "1.5e-400",
      "18446744073709551615",
      "9223372036854775808",
      "-9223372036854775808",
      "18446744073709551616",  // beyond 64 bits
      "123456789012345678901234567890",
      "-9223372036854775809",
      "1e309",
      "\xEF\xBB\xBF{}",
      R"("\u0000 \b\f\n\r\t \/ \\ \"")",
      R"("\ud800")",
      R"("\udc00x")",
      "\"a\nb\"",
      "\"\xC0\xAF\"",
      "{} x",
      "[1,]",
      "{\"a\":1,}",
      "01",
      "1.",
      ".5",
      "tru",
      "nan",
      "",
      "   ",
      "[[[[]]]]",
      std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']'),  // as deep as read
      std::string("\"nul\0inside\"", 12)};
  for (const std::string& t : texts) ExpectSameTree(ParseJson(t), Nlohmann(t), t.substr(0, 60));
  // Deeper documents are refused (the tree's walkers recurse once per level;
  // 200,000 levels overflowed the gateway's stack), over 1 MiB (nlohmann
  // reads those) as under.
  for (size_t depth : {kMaxJsonDepth + 1, size_t{2000}, size_t{600'000}}) {
    EXPECT_TRUE(ParseJson(std::string(depth, '[') + std::string(depth, ']')).is_discarded())
        << depth;
    EXPECT_TRUE(ParseJson(R"({"messages":[],"x":)" + std::string(depth, '[') +
                          std::string(depth, ']') + "}")
                    .is_discarded())
        << depth;
  }
  // The one difference: "-0" is nlohmann's signed 0 and ParseJson's unsigned
  // 0 (simdjson reads it as 0). Equal, and written as "0" by both.
  EXPECT_EQ(ParseJson("-0"), Nlohmann("-0"));
  EXPECT_EQ(DumpJson(ParseJson("[-0]")), "[0]");
}

// A random tree of every kind of value; strings of any bytes when `bytes`.
json RandomTree(std::mt19937_64& rng, int depth, bool bytes) {
  auto pick = [&](uint64_t n) { return rng() % n; };
  auto text = [&] {
    std::string s;
    const size_t n = pick(12);
    for (size_t i = 0; i < n; ++i) {
      switch (pick(bytes ? 5 : 4)) {
        case 0:
          s.push_back(static_cast<char>(pick(0x20)));  // controls
          break;
        case 1:
          s += "\"\\/";
          break;
        case 2:
          s += "é😀中";
          break;
        case 3:
          s.push_back(static_cast<char>(0x20 + pick(0x5F)));
          break;
        default:
          s.push_back(static_cast<char>(pick(256)));  // invalid UTF-8 too
      }
    }
    return s;
  };
  switch (depth <= 0 ? pick(6) : pick(8)) {
    case 0:
      return nullptr;
    case 1:
      return pick(2) == 0;
    case 2:
      return static_cast<int64_t>(rng()) >> pick(64);
    case 3:
      return static_cast<uint64_t>(rng()) >> pick(64);
    case 4:
      return std::ldexp(static_cast<double>(static_cast<int64_t>(rng())),
                        -static_cast<int>(pick(80)));
    case 5:
      return text();
    case 6: {
      json a = json::array();
      for (size_t i = pick(5); i > 0; --i) a.push_back(RandomTree(rng, depth - 1, bytes));
      return a;
    }
    default: {
      json o = json::object();
      for (size_t i = pick(5); i > 0; --i) o[text()] = RandomTree(rng, depth - 1, bytes);
      return o;
    }
  }
}

TEST(JsonIoTest, DumpsAndParsesRandomTreesAsNlohmannDoes) {
  std::mt19937_64 rng(20261202);
  for (int i = 0; i < 3000; ++i) {
    const json t = RandomTree(rng, 4, /*bytes=*/i % 2 == 1);
    const std::string dumped = DumpJson(t);
    ASSERT_EQ(dumped, NlohmannDump(t)) << i;
    ExpectSameTree(ParseJson(dumped), Nlohmann(dumped), dumped.substr(0, 80));
  }
}

}  // namespace
}  // namespace phigate::gateway
