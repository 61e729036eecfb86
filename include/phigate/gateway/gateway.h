// The PHI gateway: an OpenAI- and Anthropic-compatible HTTP server that runs
// every request through the pipeline of architecture.md:
//
//   auth -> route -> policy -> detect+transform -> [cache] -> audit(egress)
//   -> upstream -> audit(ingress) -> leak scan -> re-identify -> client
//
// Every stage fails closed: a failure refuses the request with an API-format
// JSON error (PHI-free) and nothing is forwarded raw.
//
// Example:
//   PHIGATE_ASSIGN_OR_RETURN(auto gw, Gateway::Create(config, deps));
//   PHIGATE_RETURN_IF_ERROR(gw->Start());
//   gw->HandleSignals();
//   gw->Wait();  // until SIGTERM, then drains in-flight requests
#ifndef PHIGATE_GATEWAY_GATEWAY_H_
#define PHIGATE_GATEWAY_GATEWAY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "phigate/core/status.h"
#include "phigate/gateway/config.h"
#include "phigate/gateway/interfaces.h"

namespace phigate::gateway {

struct RouteTarget {
  std::string vendor;          // an upstream's `vendor`
  std::string upstream_model;  // the model name sent to that vendor
};

// A model a caller may name in its requests, and the vendor that serves it.
struct ListedModel {
  std::string model;
  std::string vendor;
};

// Chooses the vendor for a request (the feature's routes). Thread-safe.
class Router {
 public:
  virtual ~Router() = default;
  // Every vendor of the feature's routes that declares `model`, in route
  // order; the gateway takes the first whose upstream serves the request's API
  // (a model name two kinds of vendor declare goes to the one that speaks the
  // client's API). `endpoint`: "chat/completions", "responses", "embeddings"
  // or "messages". `vendor_hint`: the x-phigate-vendor header ("" = none).
  // NotFound for an unknown feature; empty when nothing routes.
  virtual Result<std::vector<RouteTarget>> Routes(const Principal& who, std::string_view feature,
                                                  std::string_view endpoint, std::string_view model,
                                                  std::string_view vendor_hint) const = 0;
  // The models `who` may call for `feature` (GET /v1/models): those the
  // feature's routes name that the policy allows on at least one of the
  // vendor's endpoints, each name once, in route order.
  virtual std::vector<ListedModel> Models(const Principal& who, std::string_view feature) const {
    (void)who;
    (void)feature;
    return {};
  }
};

class ContainmentControls;  // phigate/gateway/containment.h

struct GatewayDeps {
  std::shared_ptr<const Authenticator> auth;    // required
  std::shared_ptr<const PolicyDecider> policy;  // required
  std::shared_ptr<const Detector> detector;     // required
  std::shared_ptr<const Redactor> redactor;     // optional: "[CATEGORY]" placeholders
  std::shared_ptr<VaultProvider> vaults;  // optional: without, tokenize/surrogate refuse (503)
  std::shared_ptr<AuditSink> audit;       // required
  std::shared_ptr<LeakScanner> leak;      // optional
  std::shared_ptr<const Router> router;   // optional: first upstream listing the model
  // optional: without, audit events carry no subject blind indexes
  std::shared_ptr<const SubjectIndexer> subjects;
  // optional: breach containment (suspended features/routes are refused with
  // 503; the gateway registers its cache purge here)
  std::shared_ptr<ContainmentControls> containment;
};

class Gateway {
 public:
  static Result<std::unique_ptr<Gateway>> Create(GatewayConfig config, GatewayDeps deps);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  Status Start();
  uint16_t port() const;
  void HandleSignals();  // SIGTERM/SIGINT -> graceful shutdown
  void Wait();
  void Shutdown();

  // The Prometheus text of /metrics.
  std::string MetricsText() const;
  uint64_t CounterForTesting(std::string_view name, std::string_view labels) const;

 private:
  struct Impl;
  explicit Gateway(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The opaque, tenant-scoped id sent to providers as their user / prompt-cache
// key: hex HMAC-SHA256(key, tenant id), never the raw tenant id.
std::string TenantOpaqueId(std::string_view key, std::string_view tenant);

}  // namespace phigate::gateway

#endif  // PHIGATE_GATEWAY_GATEWAY_H_
