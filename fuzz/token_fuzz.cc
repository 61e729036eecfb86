// Fuzzes token parsing, date parsing and re-identification of untrusted model
// output. Properties: no crash; Resolve(Tokenize(x)) == x; re-identifying a
// text streamed in two chunks equals re-identifying it whole; a text without
// '[' or '_' or issued surrogates comes back unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "phigate/crypto/key_provider.h"
#include "phigate/store/store.h"
#include "phigate/transform/date_shift.h"
#include "phigate/transform/reidentify.h"
#include "phigate/vault/vault.h"

namespace {

struct Env {
  std::unique_ptr<phigate::crypto::LocalKeyProvider> keys;
  std::unique_ptr<phigate::store::Store> store;
  std::unique_ptr<phigate::vault::Vault> vault;
  std::string known_token;
};

Env& GetEnv() {
  static Env* env = [] {
    auto* e = new Env;
    e->keys = std::move(phigate::crypto::LocalKeyProvider::FromText(
                            "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"))
                  .value();
    e->store = std::move(phigate::store::Store::Open({.url = "memory:"})).value();
    auto ts = std::move(e->store->ForTenant(phigate::TenantId("fuzz"))).value();
    e->vault = std::move(phigate::vault::Vault::Open(std::move(ts), *e->keys, {})).value();
    e->known_token = std::move(e->vault->Tokenize(phigate::PhiCategory::kName, "Qorvin Abelstam",
                                                  phigate::vault::Scope::Tenant()))
                         .value();
    return e;
  }();
  return *env;
}

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "property failed: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 16384) return 0;
  Env& env = GetEnv();
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto scope = phigate::vault::Scope::Tenant();

  (void)phigate::vault::ParseToken(input);
  if (auto d = phigate::transform::ParseDate(input)) {
    const std::string again = phigate::transform::FormatDate(d->day, d->format);
    Check(phigate::transform::ParseDate(again).has_value(), "formatted date parses");
  }

  // Round trip of an arbitrary value.
  if (size > 0 && size < 256) {
    auto tok = env.vault->Tokenize(phigate::PhiCategory::kOtherId, input, scope);
    Check(tok.ok(), "tokenize");
    auto back = env.vault->Resolve(*tok, scope);
    Check(back.ok() && *back == input, "Resolve(Tokenize(x)) == x");
  }

  // Re-identification of untrusted text, whole and streamed.
  auto reid =
      phigate::transform::Reidentifier::Create(*env.vault, scope, {.allow_reidentify = true});
  Check(reid.ok(), "create reidentifier");
  std::string text(input);
  text += " ";
  text += env.known_token;
  auto whole = (*reid)->Reidentify(text);
  Check(whole.ok(), "reidentify");
  Check(whole->find("Qorvin Abelstam") != std::string::npos, "known token restored");
  if (input.find('[') == std::string_view::npos && input.find('_') == std::string_view::npos) {
    Check(whole->substr(0, input.size()) == input, "token-free text unchanged");
  }
  auto r2 = phigate::transform::Reidentifier::Create(*env.vault, scope, {.allow_reidentify = true});
  phigate::transform::StreamReidentifier stream(std::move(*r2));
  const size_t cut = size > 0 ? data[0] % (text.size() + 1) : 0;
  std::string streamed;
  auto a = stream.Feed(std::string_view(text).substr(0, cut));
  auto b = stream.Feed(std::string_view(text).substr(cut));
  auto c = stream.Finish();
  Check(a.ok() && b.ok() && c.ok(), "stream");
  streamed = *a + *b + *c;
  Check(streamed == *whole, "streamed == whole");
  return 0;
}
