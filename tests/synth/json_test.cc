#include "nlohmann/json.hpp"

#include <string>

#include "gtest/gtest.h"
#include "phigate/core/utf8.h"
#include "phigate/synth/generator.h"
#include "tests/testing/status_matchers.h"

namespace phigate::synth {
namespace {

// Code points of a UTF-8 string (valid input).
std::u32string Decode(const std::string& s) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    out.push_back(cp);
    i += len;
  }
  return out;
}

TEST(SynthJsonTest, AppendJsonStringEscapes) {
  std::string out;
  AppendJsonString("a\"b\\c\nd\te\x01 é", &out);
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\nd\\te\\u0001 é\"");
}

TEST(SynthJsonTest, CodePointOffsetsSelectTheSpanText) {
  GeneratorOptions o;
  o.seed = 17;
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto g, Generator::Create(o));
  size_t non_ascii_spans = 0, checked = 0;
  for (int i = 0; i < 800; ++i) {
    const Note note = g->Generate();
    const nlohmann::json j = nlohmann::json::parse(NoteToJson(note));
    ASSERT_EQ(j["id"], note.id);
    ASSERT_EQ(j["patient_id"], note.patient_id);
    const std::string text = j["text"];
    ASSERT_EQ(text, note.text);
    const std::u32string cps = Decode(text);
    ASSERT_EQ(j["spans"].size(), note.spans.size() + note.references.size());
    size_t phi = 0;
    for (const auto& s : j["spans"]) {
      const size_t start = s["start"], end = s["end"];
      ASSERT_LE(end, cps.size());
      const std::u32string got = cps.substr(start, end - start);
      EXPECT_EQ(got, Decode(s["text"].get<std::string>())) << note.id;
      if (s["phi"].get<bool>()) {
        ++phi;
        ++checked;
        if (s["text"].get<std::string>().size() != end - start) ++non_ascii_spans;
        const auto cat = ParseCategory(s["category"].get<std::string>());
        ASSERT_TRUE(cat.has_value());
        EXPECT_EQ(s["type"], std::string(CategoryEvalType(*cat)));
      } else {
        EXPECT_TRUE(s["type"] == "DATE" || s["type"] == "LOCATION" || s["type"] == "AGE" ||
                    s["type"] == "ORGANIZATION");
      }
    }
    EXPECT_EQ(phi, note.spans.size());
  }
  EXPECT_GT(checked, 10000u);
  EXPECT_GT(non_ascii_spans, 10u);  // code point and byte offsets really differed
}

TEST(SynthJsonTest, Utf8UnitWritesByteOffsets) {
  GeneratorOptions o;
  o.seed = 18;
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto g, Generator::Create(o));
  for (int i = 0; i < 200; ++i) {
    const Note note = g->Generate();
    const nlohmann::json j = nlohmann::json::parse(NoteToJson(note, OffsetUnit::kUtf8));
    for (const auto& s : j["spans"]) {
      const size_t start = s["start"], end = s["end"];
      EXPECT_EQ(note.text.substr(start, end - start), s["text"].get<std::string>());
    }
  }
}

}  // namespace
}  // namespace phigate::synth
