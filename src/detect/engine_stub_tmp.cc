// TEMPORARY: replaced by the real engine within the hour; lets other modules link.
#include "phigate/detect/engine.h"

namespace phigate::detect {
namespace {
class EmptyContext : public ScanContext {};
class StubEngine : public Engine {
 public:
  explicit StubEngine(EngineOptions o) : Engine(std::move(o)) {}
  std::unique_ptr<ScanContext> NewContext() const override { return std::make_unique<EmptyContext>(); }
  Status Scan(std::string_view, ScanContext&, Findings* out) const override {
    out->clear();
    return absl::OkStatus();
  }
};
}  // namespace
Result<std::unique_ptr<Engine>> Engine::Create(const EngineOptions& o) {
  return std::unique_ptr<Engine>(new StubEngine(o));
}
Result<Findings> Engine::Scan(std::string_view text) const {
  thread_local std::unique_ptr<ScanContext> ctx;
  if (!ctx) ctx = NewContext();
  Findings out;
  PHIGATE_RETURN_IF_ERROR(Scan(text, *ctx, &out));
  return out;
}
}  // namespace phigate::detect
