// Fuzzes the detection engine and the redactor on arbitrary bytes. Properties:
// findings are sorted, disjoint, non-empty and within the input; the redactor
// accepts them; scanning never fails on input under the size cap.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "phigate/detect/engine.h"
#include "phigate/transform/redactor.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::unique_ptr<phigate::detect::Engine> engine =
      std::move(phigate::detect::Engine::Create({}).value());
  static std::unique_ptr<phigate::transform::Redactor> redactor =
      std::move(phigate::transform::Redactor::Create({}).value());
  if (size > (1 << 16)) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto found = engine->Scan(text);
  if (!found.ok()) std::abort();
  size_t last_end = 0;
  for (const phigate::Finding& f : *found) {
    if (f.begin >= f.end || f.end > size || f.begin < last_end) std::abort();
    last_end = f.end;
  }
  if (!redactor->Apply(text, *found).ok()) std::abort();
  return 0;
}
