// DeidSession, SseParser and the stream rewriters: split tokens are held back
// only until complete, tool-call deltas too, and events pass intact otherwise.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "src/gateway/api.h"
#include "src/gateway/cache.h"
#include "src/gateway/deid.h"
#include "src/gateway/detection_cache.h"
#include "src/gateway/sse.h"
#include "tests/integration/gateway_fakes.h"
#include "tests/testing/status_matchers.h"

namespace phigate::gateway {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kName[] = "Zephyrine Quallsworth";
constexpr char kMrn[] = "MRN-48213377";

// The events of an SSE body written by a rewriter.
std::vector<SseEvent> EventsOf(std::string_view sse) {
  SseParser p;
  std::vector<SseEvent> evs;
  p.Feed(sse, &evs);
  return evs;
}

class DeidTest : public ::testing::Test {
 protected:
  DeidTest() {
    detector_.Add(kName, PhiCategory::kName);
    detector_.Add(kMrn, PhiCategory::kMrn);
    decision_.allowed = true;
    decision_.SetAll(Action::kTokenize);
  }
  testing::DictDetector detector_;
  std::atomic<bool> fail_{false};
  testing::MemoryVault vault_{"acme", &fail_};
  Decision decision_;
};

// The audit event's sent_as_written: per category, the values that left as
// written (the accounting of disclosures lists only those as disclosed).
TEST_F(DeidTest, CountsTheValuesSentAsWrittenPerCategory) {
  decision_.actions[static_cast<size_t>(PhiCategory::kMrn)] = Action::kAllow;
  DeidSession s(detector_, nullptr, &vault_, decision_, "req-1");
  std::string text = std::string("Pt ") + kName + " " + kMrn + " and " + kName + ".";
  PHIGATE_ASSERT_OK(s.Deidentify(&text));
  EXPECT_THAT(text, HasSubstr(kMrn));
  EXPECT_THAT(text, Not(HasSubstr(kName)));
  const DeidStats& st = s.stats();
  EXPECT_EQ(st.category_counts[static_cast<size_t>(PhiCategory::kName)], 2u);
  EXPECT_EQ(st.sent_as_written[static_cast<size_t>(PhiCategory::kName)], 0u);
  EXPECT_EQ(st.category_counts[static_cast<size_t>(PhiCategory::kMrn)], 1u);
  EXPECT_EQ(st.sent_as_written[static_cast<size_t>(PhiCategory::kMrn)], 1u);
}

TEST_F(DeidTest, TokenizesAndMapsBackTolerantly) {
  DeidSession s(detector_, nullptr, &vault_, decision_, "req-1");
  std::string text = std::string("Pt ") + kName + " " + kMrn + " and " + kName + ".";
  PHIGATE_ASSERT_OK(s.Deidentify(&text));
  EXPECT_THAT(text, Not(HasSubstr(kName)));
  EXPECT_THAT(text, Not(HasSubstr(kMrn)));
  EXPECT_EQ(s.stats().tokens_minted, 2u);
  std::vector<std::string> reps = s.SentReplacements();
  ASSERT_EQ(reps.size(), 2u);
  // Exact, lower-cased and bracket-less forms all map back.
  std::string lower = reps[0];
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const std::string answer =
      "A: " + reps[0] + ", B: " + lower + ", C: " + reps[1].substr(1, reps[1].size() - 2) + ".";
  std::string out;
  s.Reidentify(answer, false, &out);
  EXPECT_EQ(out, std::string("A: ") + kName + ", B: " + kName + ", C: " + kMrn + ".");
}

TEST_F(DeidTest, HoldBackCoversEveryPrefixOfAToken) {
  DeidSession s(detector_, nullptr, &vault_, decision_, "req-1");
  std::string text = kName;
  PHIGATE_ASSERT_OK(s.Deidentify(&text));
  const std::string token = text;
  for (size_t k = 1; k < token.size(); ++k) {
    const std::string chunk = "see " + token.substr(0, k);
    EXPECT_EQ(s.HoldBack(chunk), k) << k;
  }
  EXPECT_EQ(s.HoldBack("see " + token), 0u);
  EXPECT_EQ(s.HoldBack("nothing here."), 0u);
}

TEST_F(DeidTest, JsonEscapedReidentification) {
  detector_.Add("O'Quinn \"Q\"", PhiCategory::kName);
  DeidSession s(detector_, nullptr, &vault_, decision_, "req-1");
  std::string text = "O'Quinn \"Q\"";
  PHIGATE_ASSERT_OK(s.Deidentify(&text));
  std::string out;
  s.Reidentify("{\"p\":\"" + text + "\"}", true, &out);
  EXPECT_EQ(json::parse(out)["p"], "O'Quinn \"Q\"");
}

TEST_F(DeidTest, BlockedCategoryRefusesWithoutVaultWrites) {
  decision_.actions[static_cast<size_t>(PhiCategory::kMrn)] = Action::kBlock;
  DeidSession s(detector_, nullptr, &vault_, decision_, "req-1");
  std::string text = std::string(kName) + " " + kMrn;
  const std::string before = text;
  Status st = s.Deidentify(&text);
  EXPECT_EQ(st.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(s.failure(), DeidFailure::kBlocked);
  EXPECT_EQ(text, before);
  EXPECT_TRUE(vault_.AllTokens().empty());
  EXPECT_THAT(std::string(st.message()), Not(HasSubstr(kMrn)));
}

TEST_F(DeidTest, VaultFailureIsUnavailable) {
  fail_ = true;
  DeidSession s(detector_, nullptr, &vault_, decision_, "req-1");
  std::string text = kName;
  EXPECT_EQ(s.Deidentify(&text).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(s.failure(), DeidFailure::kVault);
  EXPECT_EQ(text, kName);
}

// Counts the vault transactions of a session.
class CountingVault : public TokenVault {
 public:
  explicit CountingVault(TokenVault* inner) : inner_(inner) {}
  Result<std::string> Tokenize(PhiCategory c, std::string_view v, std::string_view sc) override {
    ++singles;
    return inner_->Tokenize(c, v, sc);
  }
  Result<std::vector<std::string>> TokenizeBatch(
      const std::vector<std::pair<PhiCategory, std::string_view>>& values,
      std::string_view sc) override {
    ++batches;
    batch_sizes.push_back(values.size());
    return inner_->TokenizeBatch(values, sc);
  }
  Result<std::string> Surrogate(PhiCategory c, std::string_view v, std::string_view sc) override {
    ++surrogate_singles;
    return inner_->Surrogate(c, v, sc);
  }
  Result<std::vector<std::string>> SurrogateBatch(
      const std::vector<std::pair<PhiCategory, std::string_view>>& values,
      std::string_view sc) override {
    ++surrogate_batches;
    batch_sizes.push_back(values.size());
    std::vector<std::string> out;
    for (const auto& [c, v] : values) {
      PHIGATE_ASSIGN_OR_RETURN(std::string r, inner_->Surrogate(c, v, sc));
      out.push_back(std::move(r));
    }
    return out;
  }
  int singles = 0;
  int batches = 0;
  int surrogate_singles = 0;
  int surrogate_batches = 0;
  std::vector<size_t> batch_sizes;

 private:
  TokenVault* inner_;
};

TEST_F(DeidTest, WholeRequestMintsInOneVaultTransaction) {
  CountingVault counting(&vault_);
  DeidSession s(detector_, nullptr, &counting, decision_, "req-1");
  json body = {{"model", "m"},
               {"messages",
                {{{"role", "system"}, {"content", std::string("About ") + kName}},
                 {{"role", "user"}, {"content", std::string(kMrn) + " and " + kName}},
                 {{"role", "user"}, {"content", "no identifiers here"}}}}};
  PHIGATE_ASSERT_OK(
      ForEachRequestText(Api::kOpenAIChat, body, [&](std::string* t) { return s.Scan(*t); }));
  EXPECT_EQ(counting.batches, 0);  // nothing written while scanning
  PHIGATE_ASSERT_OK(s.Mint());
  PHIGATE_ASSERT_OK(
      ForEachRequestText(Api::kOpenAIChat, body, [&](std::string* t) { return s.Apply(t); }));
  PHIGATE_ASSERT_OK(s.FinishFields());
  EXPECT_EQ(counting.batches, 1);
  EXPECT_EQ(counting.singles, 0);
  EXPECT_THAT(counting.batch_sizes, ::testing::ElementsAre(2u));  // name once, MRN once
  const std::string sent = body.dump();
  EXPECT_THAT(sent, Not(HasSubstr(kName)));
  EXPECT_THAT(sent, Not(HasSubstr(kMrn)));
  EXPECT_EQ(s.stats().tokens_minted, 2u);
  // The same name got the same token in both fields.
  const std::string first = body["messages"][0]["content"];
  const std::string second = body["messages"][1]["content"];
  const std::string name_token = first.substr(std::string("About ").size());
  EXPECT_THAT(second, HasSubstr(name_token));
  std::string back;
  s.Reidentify(second, false, &back);
  EXPECT_EQ(back, std::string(kMrn) + " and " + kName);
}

// Surrogates likewise: every new one of the request in one SurrogateBatch at
// Mint, none asked for one at a time while the fields are rewritten.
TEST_F(DeidTest, WholeRequestGivesSurrogatesInOneVaultTransaction) {
  decision_.SetAll(Action::kSurrogate);
  CountingVault counting(&vault_);
  DeidSession s(detector_, nullptr, &counting, decision_, "req-1");
  json body = {{"model", "m"},
               {"messages",
                {{{"role", "system"}, {"content", std::string("About ") + kName}},
                 {{"role", "user"}, {"content", std::string(kMrn) + " and " + kName}}}}};
  PHIGATE_ASSERT_OK(
      ForEachRequestText(Api::kOpenAIChat, body, [&](std::string* t) { return s.Scan(*t); }));
  EXPECT_EQ(counting.surrogate_batches, 0);
  PHIGATE_ASSERT_OK(s.Mint());
  PHIGATE_ASSERT_OK(
      ForEachRequestText(Api::kOpenAIChat, body, [&](std::string* t) { return s.Apply(t); }));
  PHIGATE_ASSERT_OK(s.FinishFields());
  EXPECT_EQ(counting.surrogate_batches, 1);
  EXPECT_EQ(counting.surrogate_singles, 0);
  EXPECT_EQ(counting.batches, 0);
  EXPECT_THAT(counting.batch_sizes, ::testing::ElementsAre(2u));  // name once, MRN once
  const std::string sent = body.dump();
  EXPECT_THAT(sent, Not(HasSubstr(kName)));
  EXPECT_THAT(sent, Not(HasSubstr(kMrn)));
  std::string back;
  s.Reidentify(body["messages"][1]["content"].get<std::string>(), false, &back);
  EXPECT_EQ(back, std::string(kMrn) + " and " + kName);
}

// A vault that keeps no state between calls (as the gateway's in-memory
// request tokens): its first answers are scripted, then it counts up.
class ForgetfulVault : public TokenVault {
 public:
  Result<std::string> Tokenize(PhiCategory c, std::string_view, std::string_view) override {
    return Next(c);
  }
  Result<std::vector<std::string>> TokenizeBatch(
      const std::vector<std::pair<PhiCategory, std::string_view>>& values,
      std::string_view) override {
    ++batches;
    std::vector<std::string> out;
    for (const auto& v : values) out.push_back(Next(v.first));
    return out;
  }
  Result<std::string> Surrogate(PhiCategory c, std::string_view, std::string_view) override {
    return Next(c);
  }
  std::vector<std::string> scripted;
  int batches = 0;

 private:
  std::string Next(PhiCategory c) {
    if (!scripted.empty()) {
      std::string t = scripted.front();
      scripted.erase(scripted.begin());
      return t;
    }
    return "[" + std::string(CategoryName(c)) + "_" +
           std::string(5, 'A' + static_cast<char>(n_++)) + "]";
  }
  int n_ = 0;
};

TEST_F(DeidTest, ATokenAnEarlierBatchGaveAnotherValueIsMintedAgain) {
  ForgetfulVault forgetful;
  forgetful.scripted = {"[NAME_22222]", "[MRN_22222]", "[NAME_22222]"};
  DeidSession s(detector_, nullptr, &forgetful, decision_, "req-1");
  std::string first = std::string("About ") + kName;
  PHIGATE_ASSERT_OK(s.Deidentify(&first));
  EXPECT_EQ(first, "About [NAME_22222]");
  // A second field with another name: the vault hands out the first name's
  // token again ("[NAME_22222]" scripted third), and the session asks again.
  detector_.Add("Orrin Tessaly", PhiCategory::kName);
  std::string second = std::string(kMrn) + " saw Orrin Tessaly";
  PHIGATE_ASSERT_OK(s.Deidentify(&second));
  EXPECT_EQ(forgetful.batches, 3);  // first field, second field, the re-mint
  EXPECT_THAT(second, Not(HasSubstr("[NAME_22222]")));
  EXPECT_THAT(second, HasSubstr("[MRN_22222]"));  // another category: no clash
  std::string back;
  s.Reidentify(first + " / " + second, false, &back);
  EXPECT_EQ(back, std::string("About ") + kName + " / " + kMrn + " saw Orrin Tessaly");
}

TEST_F(DeidTest, BlockedCategoryInALaterFieldRefusesBeforeAnyVaultWrite) {
  decision_.actions[static_cast<size_t>(PhiCategory::kMrn)] = Action::kBlock;
  CountingVault counting(&vault_);
  DeidSession s(detector_, nullptr, &counting, decision_, "req-1");
  PHIGATE_ASSERT_OK(s.Scan(std::string("first field: ") + kName));
  Status st = s.Scan(std::string("second field: ") + kMrn);
  EXPECT_EQ(st.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(s.failure(), DeidFailure::kBlocked);
  EXPECT_EQ(counting.batches + counting.singles, 0);
  EXPECT_TRUE(vault_.AllTokens().empty());
}

TEST_F(DeidTest, ApplyRefusesAFieldThatIsNotTheOneScanned) {
  DeidSession s(detector_, nullptr, &vault_, decision_, "req-1");
  PHIGATE_ASSERT_OK(s.Scan(std::string("Pt ") + kName));
  PHIGATE_ASSERT_OK(s.Mint());
  std::string other = std::string("Pt ") + kMrn;  // same shape, different text
  other.resize(std::string("Pt ").size() + std::string(kName).size(), 'x');
  EXPECT_EQ(s.Apply(&other).code(), absl::StatusCode::kInternal);
  EXPECT_EQ(s.FinishFields().code(), absl::StatusCode::kInternal);  // one field never applied
  std::string extra = "never scanned";
  EXPECT_EQ(s.Apply(&extra).code(), absl::StatusCode::kInternal);
}

TEST_F(DeidTest, SurrogatesNeedWordBoundaries) {
  decision_.SetAll(Action::kSurrogate);
  DeidSession s(detector_, nullptr, &vault_, decision_, "req-1");
  std::string text = kName;
  PHIGATE_ASSERT_OK(s.Deidentify(&text));
  const std::string sur = text;
  std::string out;
  s.Reidentify(sur + " and X" + sur, false, &out);
  EXPECT_EQ(out, std::string(kName) + " and X" + sur);
}

// An age surrogate is a bare number: it is restored where the answer writes
// an age, not in a vital sign that happens to be the same number, and a
// stream holds it back until the bytes after it show which it is.
TEST_F(DeidTest, AnAgeSurrogateIsRestoredOnlyWhereAnAgeIsWritten) {
  decision_.SetAll(Action::kSurrogate);
  ForgetfulVault forgetful;
  forgetful.scripted = {"94"};
  detector_.Add("102", PhiCategory::kAge);
  DeidSession s(detector_, nullptr, &forgetful, decision_, "req-1");
  std::string text = "A 102 yo woman";
  PHIGATE_ASSERT_OK(s.Deidentify(&text));
  ASSERT_EQ(text, "A 94 yo woman");
  std::string out;
  s.Reidentify("She is 94 yo, age: 94, 94 F with CP. HR 94, sat 94%, Tmax 94 F.", false, &out);
  EXPECT_EQ(out, "She is 102 yo, age: 102, 102 F with CP. HR 94, sat 94%, Tmax 94 F.");
  EXPECT_EQ(s.HoldBack("She is 94"), 2u);
  EXPECT_EQ(s.HoldBack("She is 94 y"), 4u);
  EXPECT_EQ(s.HoldBack("HR 94, sat 98% on RA"), 0u);
}

// An initial's surrogate ("M") is restored where the answer writes an
// initial, not inside "M.D." or "d/c'd"; a stream holds it back until the two
// bytes after it have come.
TEST_F(DeidTest, AnInitialSurrogateIsNotRestoredInsideAbbreviations) {
  decision_.SetAll(Action::kSurrogate);
  ForgetfulVault forgetful;
  forgetful.scripted = {"M"};
  detector_.Add("Qorvinelle", PhiCategory::kName);
  DeidSession s(detector_, nullptr, &forgetful, decision_, "req-1");
  std::string text = "Seen by Qorvinelle today";
  PHIGATE_ASSERT_OK(s.Deidentify(&text));
  ASSERT_EQ(text, "Seen by M today");
  std::string out;
  s.Reidentify("M. signed; Smith, M.D., Jones, D.M.; m/c'm; per M Quarrel.", false, &out);
  EXPECT_EQ(out, "Qorvinelle. signed; Smith, M.D., Jones, D.M.; m/c'm; per Qorvinelle Quarrel.");
  EXPECT_EQ(s.HoldBack("per M"), 1u);
  EXPECT_EQ(s.HoldBack("per M."), 2u);
  EXPECT_EQ(s.HoldBack("per M. s"), 0u);
}

// Two spellings of one value that the vault gives one surrogate pair (it
// does when a drawn candidate is another spelling's): each is sent in its own
// letter case, and the answer's spellings come back in the case written.
TEST_F(DeidTest, EachLetterCaseOfASurrogateComesBackAsWritten) {
  decision_.SetAll(Action::kSurrogate);
  ForgetfulVault shared;
  shared.scripted = {"Saint Joseph", "Saint Joseph"};
  detector_.Add("Meadowbrook Nursing", PhiCategory::kFacility);
  detector_.Add("MEADOWBROOK NURSING", PhiCategory::kFacility);
  DeidSession s(detector_, nullptr, &shared, decision_, "req-1");
  std::string text = "From Meadowbrook Nursing; FROM MEADOWBROOK NURSING.";
  PHIGATE_ASSERT_OK(s.Deidentify(&text));
  ASSERT_EQ(text, "From Saint Joseph; FROM SAINT JOSEPH.");
  std::string out;
  s.Reidentify("Saint Joseph, SAINT JOSEPH and saint joseph.", false, &out);
  EXPECT_EQ(out, "Meadowbrook Nursing, MEADOWBROOK NURSING and meadowbrook nursing.");
}

// Draws scripted surrogate candidates in turn and skips those `avoid` holds,
// as the real vault's redraw does.
class AvoidingVault : public ForgetfulVault {
 public:
  Result<std::vector<std::string>> SurrogateBatchAvoiding(
      const std::vector<std::pair<PhiCategory, std::string_view>>& values, std::string_view,
      const std::function<bool(std::string_view)>& avoid) override {
    std::vector<std::string> out;
    for (size_t i = 0; i < values.size(); ++i) {
      while (!candidates.empty() && avoid && avoid(candidates.front())) {
        avoided.push_back(candidates.front());
        candidates.erase(candidates.begin());
      }
      if (candidates.empty()) return absl::InternalError("no candidate left");
      out.push_back(candidates.front());
      candidates.erase(candidates.begin());
    }
    return out;
  }
  std::vector<std::string> candidates, avoided;
};

// A new surrogate is never made only of words the request keeps as text:
// the answer's "Ellis Marsh" would otherwise come back as the patient.
TEST_F(DeidTest, SurrogatesAvoidWordsTheRequestKeeps) {
  decision_.SetAll(Action::kSurrogate);
  AvoidingVault v;
  v.candidates = {"Ellis", "Marsh Ellis", "Tova"};
  detector_.Add("Qorvinelle", PhiCategory::kName);
  DeidSession s(detector_, nullptr, &v, decision_, "req-1");
  std::string text = "Qorvinelle met Ellis Marsh at the desk.";
  PHIGATE_ASSERT_OK(s.Deidentify(&text));
  EXPECT_EQ(text, "Tova met Ellis Marsh at the desk.");
  EXPECT_EQ(v.avoided, (std::vector<std::string>{"Ellis", "Marsh Ellis"}));
  // A later field: its own kept words ("wren"), no longer the first's ("desk").
  v.candidates = {"Wren", "Desk"};
  v.avoided.clear();
  detector_.Add("Quillan", PhiCategory::kName);
  std::string second = "Quillan signed for Wren.";
  PHIGATE_ASSERT_OK(s.Deidentify(&second));
  EXPECT_EQ(second, "Desk signed for Wren.");
  EXPECT_EQ(v.avoided, (std::vector<std::string>{"Wren"}));
}

TEST(SseParserTest, EventsSplitAnywhere) {
  const std::string stream =
      "event: a\r\ndata: {\"x\":1}\r\n\r\n: keep-alive\n\ndata: line1\ndata: line2\n\ndata: "
      "[DONE]\n\n";
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    SseParser p;
    std::vector<SseEvent> ev;
    ASSERT_TRUE(p.Feed(stream.substr(0, cut), &ev));
    ASSERT_TRUE(p.Feed(stream.substr(cut), &ev));
    ASSERT_EQ(ev.size(), 3u) << cut;
    EXPECT_EQ(ev[0].event, "a");
    EXPECT_EQ(ev[0].data, "{\"x\":1}");
    EXPECT_EQ(ev[1].data, "line1\nline2");
    EXPECT_EQ(ev[2].data, "[DONE]");
    EXPECT_FALSE(p.has_partial());
  }
}

std::string OpenAIChunk(const json& delta, const json& finish = nullptr, int index = 0) {
  json e = {
      {"id", "c"},
      {"object", "chat.completion.chunk"},
      {"created", 1},
      {"model", "m"},
      {"choices", json::array({{{"index", index}, {"delta", delta}, {"finish_reason", finish}}})}};
  return e.dump();
}

// An Anthropic text delta of block 0.
std::string AnthropicTextDelta(const std::string& text) {
  return json{{"type", "content_block_delta"},
              {"index", 0},
              {"delta", {{"type", "text_delta"}, {"text", text}}}}
      .dump();
}

// Runs events through a rewriter; returns (content text, tool args) seen by the client.
std::pair<std::string, std::string> RunOpenAI(DeidSession* s,
                                              const std::vector<std::string>& datas) {
  auto rw = StreamRewriter::Create(Api::kOpenAIChat, s);
  std::string out, scan;
  for (const std::string& d : datas) {
    PHIGATE_EXPECT_OK(rw->OnEvent(SseEvent{"", d}, &out, &scan));
  }
  EXPECT_TRUE(rw->complete());
  const std::vector<SseEvent> evs = EventsOf(out);
  std::string text, args;
  for (const SseEvent& e : evs) {
    if (e.data == "[DONE]") continue;
    json j = json::parse(e.data);
    const json& d = j["choices"][0]["delta"];
    if (d.contains("content") && d["content"].is_string()) text += d["content"].get<std::string>();
    if (d.contains("tool_calls"))
      args += d["tool_calls"][0]["function"]["arguments"].get<std::string>();
  }
  return {text, args};
}

TEST_F(DeidTest, OpenAIStreamTokensSplitEverywhere) {
  DeidSession s(detector_, nullptr, &vault_, decision_, "req-1");
  std::string tok = kName;
  PHIGATE_ASSERT_OK(s.Deidentify(&tok));
  const std::string answer = "Seen " + tok + " today; " + tok;
  for (size_t cut = 1; cut < answer.size(); ++cut) {
    auto [text, args] = RunOpenAI(&s, {OpenAIChunk({{"content", answer.substr(0, cut)}}),
                                       OpenAIChunk({{"content", answer.substr(cut)}}),
                                       OpenAIChunk(json::object(), "stop"), "[DONE]"});
    EXPECT_EQ(text, std::string("Seen ") + kName + " today; " + kName) << cut;
  }
}

// Shapes the vendors send that carry no text of the first choice: the usage
// chunk of `stream_options: {include_usage: true}` (an empty choices array,
// after the finish_reason chunk) and a second choice (`n: 2`) whose deltas
// interleave with the first's. Each choice's split token is held back and put
// back on its own; the usage chunk passes unchanged.
TEST_F(DeidTest, OpenAIStreamUsageChunkAndInterleavedChoices) {
  DeidSession s(detector_, nullptr, &vault_, decision_, "req-1");
  std::string tok = kName;
  PHIGATE_ASSERT_OK(s.Deidentify(&tok));
  const std::string usage =
      R"({"id":"c","object":"chat.completion.chunk","choices":[],)"
      R"("usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13}})";
  const size_t cut = tok.size() / 2;
  const std::vector<std::string> datas = {
      OpenAIChunk({{"content", "A: " + tok.substr(0, cut)}}, nullptr, 0),
      OpenAIChunk({{"content", "B: " + tok.substr(0, cut + 1)}}, nullptr, 1),
      OpenAIChunk({{"content", tok.substr(cut) + "."}}, nullptr, 0),
      OpenAIChunk({{"content", tok.substr(cut + 1) + "!"}}, nullptr, 1),
      OpenAIChunk(json::object(), "stop", 0),
      OpenAIChunk(json::object(), "stop", 1),
      usage,
      "[DONE]"};
  auto rw = StreamRewriter::Create(Api::kOpenAIChat, &s);
  std::string out, scan;
  for (const std::string& d : datas) PHIGATE_ASSERT_OK(rw->OnEvent(SseEvent{"", d}, &out, &scan));
  EXPECT_TRUE(rw->complete());
  std::string text[2];
  bool usage_seen = false;
  for (const SseEvent& e : EventsOf(out)) {
    if (e.data == "[DONE]") continue;
    const json j = json::parse(e.data);
    if (j["choices"].empty()) {
      EXPECT_EQ(e.data, usage);  // as the vendor wrote it
      usage_seen = true;
      continue;
    }
    for (const json& c : j["choices"]) {
      const json& d = c["delta"];
      if (d.contains("content")) text[c["index"].get<int>()] += d["content"].get<std::string>();
    }
  }
  EXPECT_TRUE(usage_seen);
  EXPECT_EQ(text[0], std::string("A: ") + kName + ".");
  EXPECT_EQ(text[1], std::string("B: ") + kName + "!");
  EXPECT_THAT(out, Not(HasSubstr(tok.substr(0, cut))));
}

TEST_F(DeidTest, OpenAIStreamPassesEventsWithNothingToPutBackAsWritten) {
  DeidSession s(detector_, nullptr, &vault_, decision_, "req-1");
  std::string tok = kName;
  PHIGATE_ASSERT_OK(s.Deidentify(&tok));
  ASSERT_NE(tok, kName);
  auto raw = [](const std::string& content_json, const char* finish = "null") {
    return std::string(R"({"id": "c-77", "object": "chat.completion.chunk", "choices": )") +
           R"([{"index": 0, "delta": {"content": )" + content_json + R"(}, "finish_reason": )" +
           finish + R"(}], "usage": {"total_tokens": 3}})";
  };
  const std::string plain = raw(R"("plain words, \u00e9t\u00e9")");
  const std::string with_token = raw(json(" saw " + tok).dump());
  const std::string partial = raw(json(" and " + tok.substr(0, 4)).dump());  // held back
  const std::string last = R"({"id": "c-77", "choices": [{"index": 0, "delta": {}, )"
                           R"("finish_reason": "stop"}], "usage": {"total_tokens": 9}})";
  auto rw = StreamRewriter::Create(Api::kOpenAIChat, &s);
  std::string out, scan;
  for (const std::string& d : {plain, with_token, partial, last, std::string("[DONE]")}) {
    PHIGATE_ASSERT_OK(rw->OnEvent(SseEvent{"", d}, &out, &scan));
  }
  const std::vector<SseEvent> evs = EventsOf(out);
  ASSERT_EQ(evs.size(), 6u) << out;  // plain, token, partial, the held tail, last, DONE
  EXPECT_EQ(evs[0].data, plain);     // byte for byte: nothing was serialized again
  EXPECT_NE(evs[1].data, with_token);
  EXPECT_THAT(evs[1].data, HasSubstr(kName));
  EXPECT_NE(evs[2].data, partial);
  EXPECT_THAT(evs[2].data, Not(HasSubstr(tok.substr(0, 4))));
  // The held tail goes out before the final event, in the upstream's envelope
  // (its id) without the usage of the event it came from.
  const json tail = json::parse(evs[3].data);
  EXPECT_EQ(tail["id"], "c-77");
  EXPECT_FALSE(tail.contains("usage"));
  EXPECT_EQ(tail["choices"][0]["delta"]["content"], tok.substr(0, 4));  // not a whole token
  EXPECT_EQ(evs[4].data, last);
  EXPECT_EQ(evs[5].data, "[DONE]");
}

// Events are read with simdjson; shapes it reads differently from nlohmann
// take the nlohmann path, so what is re-identified and scanned stays what a
// client's JSON parser sees.
TEST_F(DeidTest, OpenAIStreamEventsReadAsAClientWould) {
  DeidSession s(detector_, nullptr, &vault_, decision_, "req-1");
  std::string tok = kName;
  PHIGATE_ASSERT_OK(s.Deidentify(&tok));
  const std::string tok_json = json(tok).dump();
  auto rw = StreamRewriter::Create(Api::kOpenAIChat, &s);
  std::string out, scan;
  // A key given twice: JSON.parse (and nlohmann) keep the last one.
  const std::string twice = R"({"choices": [{"index": 0, "delta": {"content": "decoy", )"
                            R"("content": )" +
                            tok_json + "}}]}";
  PHIGATE_ASSERT_OK(rw->OnEvent(SseEvent{"", twice}, &out, &scan));
  EXPECT_THAT(scan, HasSubstr(tok));
  EXPECT_THAT(scan, Not(HasSubstr("decoy")));
  EXPECT_THAT(out, HasSubstr(kName));
  // A number too large for 64 bits (simdjson refuses it, JSON allows it).
  const std::string big = R"({"created": 123456789012345678901234567890, "choices": )"
                          R"([{"index": 0, "delta": {"content": " plain"}}]})";
  out.clear();
  PHIGATE_ASSERT_OK(rw->OnEvent(SseEvent{"", big}, &out, &scan));
  EXPECT_THAT(scan, HasSubstr(" plain"));
  EXPECT_THAT(out, HasSubstr("plain"));
  // An error event, a malformed one and one that is no object end the stream.
  EXPECT_EQ(
      rw->OnEvent(SseEvent{"", R"({"error": {"message": "overloaded"}})"}, &out, &scan).code(),
      absl::StatusCode::kUnavailable);
  EXPECT_EQ(rw->OnEvent(SseEvent{"", R"({"choices": [)"}, &out, &scan).code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(rw->OnEvent(SseEvent{"", "[1, 2]"}, &out, &scan).code(), absl::StatusCode::kDataLoss);
  // So does a choice that is no object, or an index that is no number.
  EXPECT_EQ(rw->OnEvent(SseEvent{"", R"({"choices": [1]})"}, &out, &scan).code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(rw->OnEvent(SseEvent{"", R"({"choices": [{"index": "0", "delta": {}}]})"}, &out, &scan)
                .code(),
            absl::StatusCode::kDataLoss);
  // Escaped text is read unescaped; two choices keep their own fields.
  const std::string two = R"({"choices": [{"index": 1, "delta": {"content": "caf\u00e9 "}}, )"
                          R"({"index": 0, "delta": {"content": )" +
                          tok_json + "}}]}";
  out.clear();
  PHIGATE_ASSERT_OK(rw->OnEvent(SseEvent{"", two}, &out, &scan));
  EXPECT_THAT(scan, HasSubstr("caf\xc3\xa9 "));
  const std::vector<SseEvent> evs = EventsOf(out);
  ASSERT_EQ(evs.size(), 1u);
  const json j = json::parse(evs[0].data);
  EXPECT_EQ(j["choices"][0]["delta"]["content"], "caf\xc3\xa9 ");
  EXPECT_EQ(j["choices"][1]["delta"]["content"], kName);
}

TEST_F(DeidTest, OpenAIStreamToolCallDeltas) {
  DeidSession s(detector_, nullptr, &vault_, decision_, "req-1");
  std::string tok = kName;
  PHIGATE_ASSERT_OK(s.Deidentify(&tok));
  const std::string args = "{\"patient\":\"" + tok + "\"}";
  std::vector<std::string> events;
  for (size_t i = 0; i < args.size(); i += 4) {
    events.push_back(OpenAIChunk(
        {{"tool_calls",
          json::array({{{"index", 0}, {"function", {{"arguments", args.substr(i, 4)}}}}})}}));
  }
  events.push_back(OpenAIChunk(json::object(), "tool_calls"));
  events.push_back("[DONE]");
  auto [text, got] = RunOpenAI(&s, events);
  EXPECT_EQ(json::parse(got)["patient"], kName);
}

TEST_F(DeidTest, AnthropicStreamFlushesTailAtBlockStop) {
  DeidSession s(detector_, nullptr, &vault_, decision_, "req-1");
  std::string tok = kName;
  PHIGATE_ASSERT_OK(s.Deidentify(&tok));
  auto rw = StreamRewriter::Create(Api::kAnthropicMessages, &s);
  std::string out, scan;
  // The answer ends with half a token the model never completes.
  const std::string half = tok.substr(0, 4);
  PHIGATE_ASSERT_OK(
      rw->OnEvent({"content_block_delta", AnthropicTextDelta("Hi " + tok + " ")}, &out, &scan));
  PHIGATE_ASSERT_OK(rw->OnEvent({"content_block_delta", AnthropicTextDelta(half)}, &out, &scan));
  EXPECT_THAT(out, Not(HasSubstr(half + "\"")));
  PHIGATE_ASSERT_OK(rw->OnEvent(
      {"content_block_stop", R"({"type":"content_block_stop","index":0})"}, &out, &scan));
  PHIGATE_ASSERT_OK(rw->OnEvent({"message_stop", R"({"type":"message_stop"})"}, &out, &scan));
  EXPECT_TRUE(rw->complete());
  const std::vector<SseEvent> evs = EventsOf(out);
  std::string text;
  for (const auto& e : evs) {
    json j = json::parse(e.data);
    if (j["type"] == "content_block_delta") text += j["delta"]["text"].get<std::string>();
  }
  EXPECT_EQ(text, std::string("Hi ") + kName + " " + half);
  EXPECT_EQ(evs.back().event, "message_stop");
}

// Anthropic's `ping` events (between any two events, a held token's halves
// included) pass as written and do not release the held tail.
TEST_F(DeidTest, AnthropicStreamPingEventsBetweenTokenHalves) {
  DeidSession s(detector_, nullptr, &vault_, decision_, "req-1");
  std::string tok = kName;
  PHIGATE_ASSERT_OK(s.Deidentify(&tok));
  const SseEvent ping{"ping", R"({"type": "ping"})"};
  const size_t cut = tok.size() / 2;
  auto rw = StreamRewriter::Create(Api::kAnthropicMessages, &s);
  std::string out, scan;
  PHIGATE_ASSERT_OK(rw->OnEvent(
      {"content_block_start",
       R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"},
      &out, &scan));
  PHIGATE_ASSERT_OK(rw->OnEvent(ping, &out, &scan));
  PHIGATE_ASSERT_OK(rw->OnEvent(
      {"content_block_delta", AnthropicTextDelta("Hi " + tok.substr(0, cut))}, &out, &scan));
  PHIGATE_ASSERT_OK(rw->OnEvent(ping, &out, &scan));
  EXPECT_THAT(out, Not(HasSubstr(tok.substr(0, cut))));
  PHIGATE_ASSERT_OK(
      rw->OnEvent({"content_block_delta", AnthropicTextDelta(tok.substr(cut) + ".")}, &out, &scan));
  PHIGATE_ASSERT_OK(rw->OnEvent(
      {"content_block_stop", R"({"type":"content_block_stop","index":0})"}, &out, &scan));
  PHIGATE_ASSERT_OK(rw->OnEvent({"message_stop", R"({"type":"message_stop"})"}, &out, &scan));
  EXPECT_TRUE(rw->complete());
  std::string text;
  int pings = 0;
  for (const SseEvent& e : EventsOf(out)) {
    if (e.event == "ping") {
      EXPECT_EQ(e.data, ping.data);
      ++pings;
      continue;
    }
    const json j = json::parse(e.data);
    if (j["type"] == "content_block_delta") text += j["delta"]["text"].get<std::string>();
  }
  EXPECT_EQ(pings, 2);
  EXPECT_EQ(text, std::string("Hi ") + kName + ".");
}

// Anthropic events are read with simdjson too: unchanged ones go out byte for
// byte, and shapes simdjson would read differently from a client's JSON
// parser (a key given twice, a number beyond 64 bits) take the tree path.
TEST_F(DeidTest, AnthropicStreamEventsReadAsAClientWould) {
  DeidSession s(detector_, nullptr, &vault_, decision_, "req-1");
  std::string tok = kName;
  PHIGATE_ASSERT_OK(s.Deidentify(&tok));
  const std::string tok_json = json(tok).dump();
  auto rw = StreamRewriter::Create(Api::kAnthropicMessages, &s);
  std::string out, scan;
  auto events = [&] {
    std::vector<SseEvent> evs = EventsOf(out);
    out.clear();
    return evs;
  };
  // Nothing to put back: the event as the upstream wrote it, spacing included.
  const std::string plain =
      R"({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello "}})";
  PHIGATE_ASSERT_OK(rw->OnEvent({"content_block_delta", plain}, &out, &scan));
  auto evs = events();
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].data, plain);
  // A token is put back; the event keeps its other members.
  const std::string with_token = R"({"type":"content_block_delta","index":0,"extra":[1,2],)"
                                 R"("delta":{"type":"text_delta","text":)" +
                                 tok_json + "}}";
  PHIGATE_ASSERT_OK(rw->OnEvent({"content_block_delta", with_token}, &out, &scan));
  evs = events();
  ASSERT_EQ(evs.size(), 1u);
  json j = json::parse(evs[0].data);
  EXPECT_EQ(j["delta"]["text"], kName);
  EXPECT_EQ(j["extra"], json::array({1, 2}));
  // A key given twice: the last one is what a client reads, and what is put back.
  const std::string twice =
      R"({"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"decoy","text":)" +
      tok_json + "}}";
  scan.clear();
  PHIGATE_ASSERT_OK(rw->OnEvent({"content_block_delta", twice}, &out, &scan));
  EXPECT_THAT(scan, HasSubstr(tok));
  EXPECT_THAT(scan, Not(HasSubstr("decoy")));
  evs = events();
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(json::parse(evs[0].data)["delta"]["text"], kName);
  // A number too large for 64 bits (simdjson refuses it, JSON allows it).
  const std::string big =
      R"({"type":"content_block_delta","index":0,"n":123456789012345678901234567890,)"
      R"("delta":{"type":"text_delta","text":)" +
      tok_json + "}}";
  PHIGATE_ASSERT_OK(rw->OnEvent({"content_block_delta", big}, &out, &scan));
  evs = events();
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(json::parse(evs[0].data)["delta"]["text"], kName);
  // Tool input and thinking deltas are fields of their own; an input's
  // token is put back JSON-escaped.
  const std::string input = R"({"type":"content_block_delta","index":2,"delta":)"
                            R"({"type":"input_json_delta","partial_json":"{\"p\":\")" +
                            tok + R"(\"}"}})";
  PHIGATE_ASSERT_OK(rw->OnEvent({"content_block_delta", input}, &out, &scan));
  const std::string thinking = R"({"type":"content_block_delta","index":3,"delta":)"
                               R"({"type":"thinking_delta","thinking":)" +
                               tok_json + "}}";
  PHIGATE_ASSERT_OK(rw->OnEvent({"content_block_delta", thinking}, &out, &scan));
  evs = events();
  ASSERT_EQ(evs.size(), 2u);
  EXPECT_EQ(json::parse(json::parse(evs[0].data)["delta"]["partial_json"].get<std::string>())["p"],
            kName);
  EXPECT_EQ(json::parse(evs[1].data)["delta"]["thinking"], kName);
  // A block's start has every string rewritten (the tree path).
  const std::string start = R"({"type":"content_block_start","index":4,"content_block":)"
                            R"({"type":"tool_use","id":"toolu_1","name":"lookup","input":{"who":)" +
                            tok_json + "}}}";
  PHIGATE_ASSERT_OK(rw->OnEvent({"content_block_start", start}, &out, &scan));
  evs = events();
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(json::parse(evs[0].data)["content_block"]["input"]["who"], kName);
  // The SSE event name is the fallback type.
  PHIGATE_ASSERT_OK(rw->OnEvent({"message_stop", R"({})"}, &out, &scan));
  EXPECT_TRUE(rw->complete());
  // Error events end the stream; so do malformed ones: not JSON, no object, a
  // type that is no string, an index that is no integer (each refused, none throws).
  EXPECT_EQ(
      rw->OnEvent({"", R"({"type":"error","error":{"type":"overloaded_error"}})"}, &out, &scan)
          .code(),
      absl::StatusCode::kUnavailable);
  for (const char* bad : {R"({"type":"content_block_delta")", R"([1])", R"({"type":7})",
                          R"({"type":"content_block_delta","index":"0","delta":{"text":"x"}})",
                          R"({"type":"content_block_stop","index":1.5})",
                          R"({"type":"content_block_stop","index":4294967296})"}) {
    EXPECT_EQ(rw->OnEvent({"", bad}, &out, &scan).code(), absl::StatusCode::kDataLoss) << bad;
  }
}

TEST(ApiTest, ErrorFormats) {
  json o = json::parse(ErrorJson(Api::kOpenAIChat, 403, "denied"));
  EXPECT_EQ(o["error"]["message"], "denied");
  EXPECT_EQ(o["error"]["type"], "permission_error");
  json a = json::parse(ErrorJson(Api::kAnthropicMessages, 413, "too big"));
  EXPECT_EQ(a["type"], "error");
  EXPECT_EQ(a["error"]["type"], "request_too_large");
}

TEST(ApiTest, EveryTextFieldIsVisited) {
  json body = json::parse(R"({
    "model":"m",
    "system":[{"type":"text","text":"S1"}],
    "messages":[
      {"role":"user","content":"U1"},
      {"role":"assistant","content":[{"type":"text","text":"A1"},
        {"type":"tool_use","id":"t","name":"f","input":{"q":"T1","n":{"deep":["T2"]}}}]},
      {"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"text","text":"R1"}]}]}
    ]})");
  std::vector<std::string> seen;
  PHIGATE_ASSERT_OK(ForEachRequestText(Api::kAnthropicMessages, body, [&](std::string* s) {
    seen.push_back(*s);
    *s = "x";
    return absl::OkStatus();
  }));
  // The ids and the tool's name reach the vendor too: text like any other.
  EXPECT_THAT(seen,
              ::testing::UnorderedElementsAre("S1", "U1", "A1", "T1", "T2", "R1", "t", "f", "t"));
  EXPECT_EQ(body["messages"][1]["content"][1]["input"]["n"]["deep"][0], "x");
  EXPECT_EQ(body["messages"][1]["content"][1]["type"], "tool_use");  // vocabulary
}

// Whatever the vendor receives is de-identified, not only the fields the
// walker knows: tool definitions, stop sequences, response schemas,
// citations, extra keys of a part, fields of a later API version.
TEST(ApiTest, EveryStringTheVendorReceivesIsVisitedButVocabulary) {
  json openai = json::parse(R"({
    "model":"gpt-4o-mini",
    "messages":[
      {"role":"user","content":[{"type":"text","text":"U1","note":"P1"}]},
      {"role":"tool","tool_call_id":"P2","content":"U2"}],
    "tools":[{"type":"function","function":{"name":"lookup","description":"P3",
      "parameters":{"type":"object","properties":{"who":{"type":"string","enum":["P4"]}}}}}],
    "stop":["P5"],
    "response_format":{"type":"json_schema","json_schema":{"name":"n",
      "schema":{"type":"object","description":"P6"}}},
    "tool_choice":"auto",
    "x_future_field":{"deep":[["P7"]]},
    "max_tokens":5,"stream":false})");
  std::vector<std::string> seen;
  auto fn = [&](std::string* s) {
    seen.push_back(*s);
    *s = "x";
    return absl::OkStatus();
  };
  PHIGATE_ASSERT_OK(ForEachRequestText(Api::kOpenAIChat, openai, fn));
  const std::string sent = openai.dump();
  for (const char* p : {"P1", "P2", "P3", "P4", "P5", "P6", "P7", "U1", "U2"}) {
    EXPECT_THAT(seen, ::testing::Contains(p));
    EXPECT_THAT(sent, Not(HasSubstr(p)));
  }
  for (const char* v : {"gpt-4o-mini", "user", "tool", "text", "function", "json_schema", "auto"}) {
    EXPECT_THAT(seen, Not(::testing::Contains(v)));
    EXPECT_THAT(sent, HasSubstr(absl::StrCat("\"", v, "\"")));
  }
  // A vocabulary key with a value that is no vocabulary word is text.
  json odd = json::parse(R"({"model":"m","messages":[{"role":"Qorvin Abelstam","content":"U"}]})");
  seen.clear();
  PHIGATE_ASSERT_OK(ForEachRequestText(Api::kOpenAIChat, odd, fn));
  EXPECT_THAT(seen, ::testing::Contains("Qorvin Abelstam"));
  // Nor is a number in a vocabulary field, or a model "name" without a letter.
  json digits =
      json::parse(R"({"model":"123456789","messages":[{"role":"123-45-6789","content":"U"}]})");
  seen.clear();
  PHIGATE_ASSERT_OK(ForEachRequestText(Api::kOpenAIChat, digits, fn));
  EXPECT_THAT(seen, ::testing::Contains("123-45-6789"));
  EXPECT_THAT(seen, ::testing::Contains("123456789"));

  // Object keys reach the vendor too: a key that is not a lower-case field
  // name is de-identified and renamed; field names are left alone.
  json keys = json::parse(R"({"model":"m","messages":[{"role":"user","content":"U"}],
    "metadata":{"Qorvin Abelstam":"v1","MRN 4429871":{"deep_key":"v2"},"patient_name":"v3"}})");
  seen.clear();
  int n = 0;
  auto numbered = [&](std::string* s) {
    seen.push_back(*s);
    *s = absl::StrCat("x", n++);
    return absl::OkStatus();
  };
  PHIGATE_ASSERT_OK(ForEachRequestText(Api::kOpenAIChat, keys, numbered));
  EXPECT_THAT(seen, ::testing::Contains("Qorvin Abelstam"));
  EXPECT_THAT(seen, ::testing::Contains("MRN 4429871"));
  EXPECT_THAT(seen, Not(::testing::Contains("patient_name")));
  EXPECT_THAT(seen, Not(::testing::Contains("deep_key")));
  EXPECT_THAT(seen, Not(::testing::Contains("metadata")));
  const std::string out = keys.dump();
  EXPECT_THAT(out, Not(HasSubstr("Qorvin")));
  EXPECT_THAT(out, Not(HasSubstr("4429871")));
  EXPECT_THAT(out, HasSubstr("\"patient_name\""));
  EXPECT_EQ(keys["metadata"].size(), 3u);
  // Two keys that de-identify to one text would overwrite each other: refused.
  json twins = json::parse(R"({"model":"m","messages":[{"role":"user","content":"U"}],
    "metadata":{"Qorvin Abelstam":"a","Abelstam Qorvin":"b"}})");
  auto same = [](std::string* s) {
    *s = "[NAME]";
    return absl::OkStatus();
  };
  EXPECT_EQ(ForEachRequestText(Api::kOpenAIChat, twins, same).code(),
            absl::StatusCode::kInvalidArgument);

  json anthropic = json::parse(R"({
    "model":"claude-sonnet-4","max_tokens":10,
    "tools":[{"name":"lookup","description":"P1","input_schema":{"type":"object"}}],
    "stop_sequences":["P2"],
    "messages":[
      {"role":"assistant","content":[
        {"type":"thinking","thinking":"U1","signature":"SIG0+/="},
        {"type":"redacted_thinking","data":"OPAQUE1"},
        {"type":"text","text":"U2","citations":[{"type":"char_location","cited_text":"P3",
          "document_title":"P4","document_index":0,"start_char_index":0,"end_char_index":2}]}]},
      {"role":"user","content":"U3"}]})");
  seen.clear();
  PHIGATE_ASSERT_OK(ForEachRequestText(Api::kAnthropicMessages, anthropic, fn));
  for (const char* p : {"P1", "P2", "P3", "P4", "U1", "U2", "U3"}) {
    EXPECT_THAT(seen, ::testing::Contains(p));
  }
  // The provider's own opaque data goes back as it came.
  EXPECT_THAT(seen, Not(::testing::Contains("SIG0+/=")));
  EXPECT_THAT(seen, Not(::testing::Contains("OPAQUE1")));
  EXPECT_EQ(anthropic["messages"][0]["content"][0]["signature"], "SIG0+/=");
}

// The Responses API request: instructions, input messages (string or parts),
// earlier function calls and their outputs (JSON text: the decoded strings),
// reasoning summaries, and every other string the vendor receives; the
// provider's encrypted reasoning and the API's words are left as they are.
TEST(ApiTest, ResponsesRequestTextsAreVisited) {
  json body = json::parse(R"({
    "model":"gpt-4.1","instructions":"I1",
    "input":[
      {"role":"user","content":"U1"},
      {"type":"message","role":"user","content":[{"type":"input_text","text":"U2"}]},
      {"type":"message","role":"assistant","content":[{"type":"output_text","text":"A1","annotations":[]}]},
      {"type":"function_call","call_id":"call_1","name":"lookup","arguments":"{\"who\":\"F1\"}"},
      {"type":"function_call_output","call_id":"call_1","output":"{\"found\":[\"O1\"]}"},
      {"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"R1"}],
       "encrypted_content":"OPAQUE+/="}],
    "tools":[{"type":"function","name":"lookup","description":"P1",
              "parameters":{"type":"object","properties":{}}}],
    "include":["reasoning.encrypted_content"],"reasoning":{"effort":"low"},
    "text":{"format":{"type":"json_schema","name":"n","schema":{"description":"P2"}}},
    "metadata":{"case":"P3"},"store":false,"stream":true})");
  std::vector<std::string> seen;
  auto fn = [&](std::string* s) {
    seen.push_back(*s);
    *s = "x";
    return absl::OkStatus();
  };
  PHIGATE_ASSERT_OK(ForEachRequestText(Api::kOpenAIResponses, body, fn));
  for (const char* t : {"I1", "U1", "U2", "A1", "F1", "O1", "R1", "P1", "P2", "P3"}) {
    EXPECT_THAT(seen, ::testing::Contains(t)) << t;
  }
  const std::string sent = body.dump();
  EXPECT_EQ(json::parse(body["input"][3]["arguments"].get<std::string>())["who"], "x");
  EXPECT_EQ(json::parse(body["input"][4]["output"].get<std::string>())["found"][0], "x");
  for (const char* kept : {"OPAQUE+/=", "reasoning.encrypted_content", "low", "gpt-4.1"}) {
    EXPECT_THAT(seen, Not(::testing::Contains(kept))) << kept;
    EXPECT_THAT(sent, HasSubstr(kept));
  }
  // A plain string input; pixels, files and screenshots are refused.
  json plain = json::parse(R"({"model":"m","input":"U9","background":false})");
  seen.clear();
  PHIGATE_ASSERT_OK(ForEachRequestText(Api::kOpenAIResponses, plain, fn));
  EXPECT_THAT(seen, ::testing::Contains("U9"));
  for (
      const char* refused :
      {R"({"model":"m","input":[{"role":"user","content":[{"type":"input_image","image_url":"data:x"}]}]})",
       R"({"model":"m","input":[{"role":"user","content":[{"type":"input_file","file_data":"x"}]}]})",
       R"({"model":"m","input":[{"type":"computer_call_output","call_id":"c","output":{"type":"computer_screenshot","image_url":"data:x"}}]})",
       R"({"model":"m","input":7})", R"({"model":"m","input":"U9","background":true})"}) {
    json b = json::parse(refused);
    EXPECT_EQ(ForEachRequestText(Api::kOpenAIResponses, b, fn).code(),
              absl::StatusCode::kInvalidArgument)
        << refused;
  }
}

// A whole Responses answer: message text, function-call arguments (JSON text,
// so the value goes back JSON-escaped) and the request's instructions it echoes.
TEST_F(DeidTest, ResponsesAnswerIsReidentified) {
  DeidSession s(detector_, nullptr, &vault_, decision_, "req-1");
  std::string tok = kName;
  PHIGATE_ASSERT_OK(s.Deidentify(&tok));
  ASSERT_NE(tok, kName);
  json body = {
      {"id", "resp_1"},
      {"object", "response"},
      {"instructions", "Summarise " + tok},
      {"output", json::array({{{"type", "message"},
                               {"id", "msg_1"},
                               {"role", "assistant"},
                               {"content", json::array({{{"type", "output_text"},
                                                         {"text", "Seen " + tok + " today."},
                                                         {"annotations", json::array()}}})}},
                              {{"type", "function_call"},
                               {"id", "fc_1"},
                               {"call_id", "call_1"},
                               {"name", "lookup"},
                               {"arguments", json{{"who", tok}}.dump()}}})}};
  std::string scan;
  RewriteResponse(Api::kOpenAIResponses, body, &s, &scan);
  EXPECT_EQ(body["output"][0]["content"][0]["text"], std::string("Seen ") + kName + " today.");
  EXPECT_EQ(json::parse(body["output"][1]["arguments"].get<std::string>())["who"], kName);
  EXPECT_EQ(body["instructions"], std::string("Summarise ") + kName);
  EXPECT_THAT(scan, HasSubstr(tok));  // the scanner reads the de-identified answer
  EXPECT_THAT(scan, Not(HasSubstr(kName)));
}

// The events of a streamed Responses answer, as OpenAI sends them: `answer` in
// output_text deltas of `piece` bytes, then the whole texts and the snapshot.
std::vector<SseEvent> ResponsesEvents(const std::string& answer, size_t piece) {
  std::vector<SseEvent> evs;
  for (auto& [type, data] :
       testing::ResponsesStreamEvents(answer, piece, {{"id", "resp_1"}, {"status", "completed"}})) {
    evs.push_back(SseEvent{type, data.dump()});
  }
  return evs;
}

TEST_F(DeidTest, ResponsesStreamTokensSplitEverywhere) {
  DeidSession s(detector_, nullptr, &vault_, decision_, "req-1");
  std::string tok = kName;
  PHIGATE_ASSERT_OK(s.Deidentify(&tok));
  // Ends with what could be the start of a token: held back until the field ends.
  const std::string answer = "Seen " + tok + " today; " + tok + " " + tok.substr(0, 4);
  const std::string want =
      std::string("Seen ") + kName + " today; " + kName + " " + tok.substr(0, 4);
  for (size_t piece = 1; piece <= 7; ++piece) {
    auto rw = StreamRewriter::Create(Api::kOpenAIResponses, &s);
    std::string out, scan;
    for (const SseEvent& e : ResponsesEvents(answer, piece)) {
      PHIGATE_ASSERT_OK(rw->OnEvent(e, &out, &scan));
    }
    EXPECT_TRUE(rw->complete());
    std::string deltas;
    int64_t last_seq = -1;
    json done, completed;
    for (const SseEvent& e : EventsOf(out)) {
      const json j = json::parse(e.data);
      EXPECT_EQ(e.event, j["type"]);
      EXPECT_GT(j["sequence_number"].get<int64_t>(), last_seq) << piece << " " << e.data;
      last_seq = j["sequence_number"].get<int64_t>();
      if (j["type"] == "response.output_text.delta") {
        EXPECT_EQ(j["item_id"], "msg_1");
        EXPECT_EQ(j["content_index"], 0);
        EXPECT_TRUE(done.is_null()) << "a delta after its field's done event";
        deltas += j["delta"].get<std::string>();
      }
      if (j["type"] == "response.output_text.done") done = j;
      if (j["type"] == "response.completed") completed = j;
    }
    EXPECT_EQ(deltas, want) << piece;
    EXPECT_EQ(done["text"], want);
    EXPECT_EQ(completed["response"]["output"][0]["content"][0]["text"], want);
    EXPECT_THAT(out, Not(HasSubstr(tok.substr(0, 6))));
  }
  // A caller without the permission: every event goes out as the upstream wrote it.
  auto plain = StreamRewriter::Create(Api::kOpenAIResponses, nullptr);
  std::string out, scan;
  const std::vector<SseEvent> evs = ResponsesEvents(answer, 3);
  for (const SseEvent& e : evs) PHIGATE_ASSERT_OK(plain->OnEvent(e, &out, &scan));
  const std::vector<SseEvent> got = EventsOf(out);
  ASSERT_EQ(got.size(), evs.size());
  for (size_t i = 0; i < evs.size(); ++i) EXPECT_EQ(got[i].data, evs[i].data);
  EXPECT_THAT(scan, HasSubstr(tok));
}

TEST_F(DeidTest, ResponsesStreamFunctionCallArguments) {
  DeidSession s(detector_, nullptr, &vault_, decision_, "req-1");
  std::string tok = kName;
  PHIGATE_ASSERT_OK(s.Deidentify(&tok));
  const std::string args = json{{"patient", tok}}.dump();
  auto rw = StreamRewriter::Create(Api::kOpenAIResponses, &s);
  std::string out, scan;
  int seq = 0;
  auto send = [&](const std::string& type, json data) {
    data["type"] = type;
    data["sequence_number"] = seq++;
    PHIGATE_ASSERT_OK(rw->OnEvent(SseEvent{type, data.dump()}, &out, &scan));
  };
  for (size_t i = 0; i < args.size(); i += 4) {
    send("response.function_call_arguments.delta",
         {{"item_id", "fc_1"}, {"output_index", 1}, {"delta", args.substr(i, 4)}});
  }
  send("response.function_call_arguments.done",
       {{"item_id", "fc_1"}, {"output_index", 1}, {"arguments", args}});
  send("response.completed", {{"response", {{"status", "completed"}}}});
  std::string got;
  for (const SseEvent& e : EventsOf(out)) {
    const json j = json::parse(e.data);
    if (j["type"] == "response.function_call_arguments.delta") {
      EXPECT_EQ(j["item_id"], "fc_1");
      EXPECT_EQ(j["output_index"], 1);
      got += j["delta"].get<std::string>();
    }
    if (j["type"] == "response.function_call_arguments.done") {
      EXPECT_EQ(json::parse(j["arguments"].get<std::string>())["patient"], kName);
    }
  }
  EXPECT_EQ(json::parse(got)["patient"], kName);
}

// An error event or a failed response ends the stream as an upstream error;
// an event the client could not read as the upstream meant is malformed.
TEST_F(DeidTest, ResponsesStreamErrorsAndMalformedEvents) {
  DeidSession s(detector_, nullptr, &vault_, decision_, "req-1");
  std::string out, scan;
  EXPECT_EQ(StreamRewriter::Create(Api::kOpenAIResponses, &s)
                ->OnEvent(SseEvent{"error", R"({"type":"error","message":"boom"})"}, &out, &scan)
                .code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(StreamRewriter::Create(Api::kOpenAIResponses, &s)
                ->OnEvent(SseEvent{"response.failed",
                                   R"({"type":"response.failed","response":{"status":"failed"}})"},
                          &out, &scan)
                .code(),
            absl::StatusCode::kUnavailable);
  for (const char* bad : {R"({"type":"response.output_text.delta","output_index":"0","delta":"x"})",
                          R"({"type":"response.output_text.delta","output_index":0,"delta":7})",
                          R"({"type":"response.output_text.delta","output_index":-1,"delta":"x"})",
                          R"({"type":7})", "not json"}) {
    EXPECT_EQ(StreamRewriter::Create(Api::kOpenAIResponses, &s)
                  ->OnEvent(SseEvent{"", bad}, &out, &scan)
                  .code(),
              absl::StatusCode::kDataLoss)
        << bad;
  }
  // The stream's own error event, after the last sequence number seen.
  auto rw = StreamRewriter::Create(Api::kOpenAIResponses, &s);
  out.clear();
  PHIGATE_ASSERT_OK(rw->OnEvent(
      SseEvent{"", R"({"type":"response.in_progress","sequence_number":4,"response":{}})"}, &out,
      &scan));
  EXPECT_FALSE(rw->complete());
  out.clear();
  rw->AppendError("upstream ended", &out);
  const std::vector<SseEvent> evs = EventsOf(out);
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].event, "error");
  const json e = json::parse(evs[0].data);
  EXPECT_EQ(e["type"], "error");
  EXPECT_EQ(e["message"], "upstream ended");
  EXPECT_EQ(e["sequence_number"], 5);
}

TEST(CacheTest, KeysArePartitionedByTenantAndPolicy) {
  const std::string a = ResponseCache::Key("acme", "v1", "openai", "openai.chat", "{}");
  EXPECT_NE(a, ResponseCache::Key("globex", "v1", "openai", "openai.chat", "{}"));
  EXPECT_NE(a, ResponseCache::Key("acme", "v2", "openai", "openai.chat", "{}"));
  EXPECT_NE(ResponseCache::Key("ab", "c", "", "", ""), ResponseCache::Key("a", "bc", "", "", ""));
  ResponseCache cache(2, std::chrono::seconds(60));
  cache.Put(a, "x");
  EXPECT_EQ(cache.Get(a).value_or(""), "x");
  EXPECT_FALSE(
      cache.Get(ResponseCache::Key("globex", "v1", "openai", "openai.chat", "{}")).has_value());
  cache.Put("k2", "y");
  cache.Put("k3", "z");
  EXPECT_EQ(cache.size(), 2u);
}

}  // namespace
}  // namespace phigate::gateway

namespace phigate::gateway {
namespace {

// Counts the scans that reach the real detector.
class CountingDetector : public Detector {
 public:
  explicit CountingDetector(const Detector& inner) : inner_(inner) {}
  Status Scan(std::string_view text, Findings* out) const override {
    ++scans;
    if (fail) return absl::InternalError("scratch exhausted");
    return inner_.Scan(text, out);
  }
  mutable int scans = 0;
  bool fail = false;

 private:
  const Detector& inner_;
};

std::string LongNote(const std::string& name) {
  std::string note = "Patient " + name + " seen today.";
  while (note.size() < DetectionCache::kMinTextBytes) note += " Vitals stable, plan unchanged.";
  return note;
}

TEST(DetectionCacheTest, HitsOnlyTheSameTextInTheSamePartition) {
  testing::DictDetector dict;
  dict.Add(kName, PhiCategory::kName);
  CountingDetector counting(dict);
  DetectionCache cache(100);
  const std::string note = LongNote(kName);
  CachedDetector conv_a(counting, &cache, "4:acmeconv-a");
  Findings first, again;
  PHIGATE_ASSERT_OK(conv_a.Scan(note, &first));
  PHIGATE_ASSERT_OK(conv_a.Scan(note, &again));
  EXPECT_EQ(counting.scans, 1);  // the second came from the cache
  EXPECT_EQ(conv_a.hits(), 1u);
  EXPECT_EQ(conv_a.misses(), 1u);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(again, first);
  EXPECT_EQ(note.substr(again[0].begin, again[0].size()), kName);

  // Another conversation, another tenant, another text: scanned again.
  CachedDetector conv_b(counting, &cache, "4:acmeconv-b");
  CachedDetector other_tenant(counting, &cache, "5:acme2conv-a");
  Findings f;
  PHIGATE_ASSERT_OK(conv_b.Scan(note, &f));
  PHIGATE_ASSERT_OK(other_tenant.Scan(note, &f));
  PHIGATE_ASSERT_OK(conv_a.Scan(note + " ", &f));
  EXPECT_EQ(counting.scans, 4);
  // Short texts are always scanned.
  PHIGATE_ASSERT_OK(conv_a.Scan(kName, &f));
  PHIGATE_ASSERT_OK(conv_a.Scan(kName, &f));
  EXPECT_EQ(counting.scans, 6);
  EXPECT_EQ(cache.size(), 4u);
}

TEST(DetectionCacheTest, BoundedAndFailuresAreNotCached) {
  testing::DictDetector dict;
  dict.Add(kName, PhiCategory::kName);
  CountingDetector counting(dict);
  DetectionCache cache(2);
  CachedDetector d(counting, &cache, "p");
  Findings f;
  const std::string a = LongNote("A"), b = LongNote("B"), c = LongNote("C");
  PHIGATE_ASSERT_OK(d.Scan(a, &f));
  PHIGATE_ASSERT_OK(d.Scan(b, &f));
  PHIGATE_ASSERT_OK(d.Scan(a, &f));  // a is now the most recent
  PHIGATE_ASSERT_OK(d.Scan(c, &f));  // evicts b
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(counting.scans, 3);
  PHIGATE_ASSERT_OK(d.Scan(a, &f));
  EXPECT_EQ(counting.scans, 3);
  PHIGATE_ASSERT_OK(d.Scan(b, &f));
  EXPECT_EQ(counting.scans, 4);
  // A failing detector fails the scan and leaves nothing cached.
  counting.fail = true;
  const std::string e = LongNote("E");
  EXPECT_FALSE(d.Scan(e, &f).ok());
  EXPECT_FALSE(d.Scan(e, &f).ok());
  EXPECT_EQ(counting.scans, 6);
  // Off: nothing kept.
  DetectionCache off(0);
  CachedDetector none(counting, &off, "p");
  counting.fail = false;
  PHIGATE_ASSERT_OK(none.Scan(a, &f));
  PHIGATE_ASSERT_OK(none.Scan(a, &f));
  EXPECT_EQ(counting.scans, 8);
}

}  // namespace
}  // namespace phigate::gateway
