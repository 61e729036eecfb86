// Gateway configuration: the `server:` and `gateway:` sections of phigate.yaml.
//
// Example:
//   server:
//     listen: 127.0.0.1:8080
//     io_threads: 2
//     max_body_bytes: 4194304
//     tls: {cert_file: /etc/phigate/cert.pem, key_file: /etc/phigate/key.pem}
//   gateway:
//     store: sqlite:///var/lib/phigate/phigate.db
//     cache: {enabled: true, max_entries: 10000, ttl_seconds: 300}
//     upstreams:
//       - vendor: openai                # the policy's vendor id
//         kind: openai                  # openai | azure-openai | anthropic | bedrock |
//         openai-compatible base_url: https://api.openai.com/v1 api_key_env: OPENAI_API_KEY models:
//         [gpt-4o, gpt-4o-mini] # requested models routed here ("*" = any)
#ifndef PHIGATE_GATEWAY_CONFIG_H_
#define PHIGATE_GATEWAY_CONFIG_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "phigate/core/status.h"

namespace phigate::gateway {

enum class VendorKind : uint8_t { kOpenAI, kAzureOpenAI, kAnthropic, kBedrock, kOpenAICompatible };
std::string_view VendorKindName(VendorKind k);

struct UpstreamConfig {
  std::string vendor;  // the policy's vendor id
  VendorKind kind = VendorKind::kOpenAI;
  bool kind_explicit = false;  // `kind:` was given (overrides the policy vendor's kind)
  // openai/openai-compatible: "https://api.openai.com/v1"; azure: "https://RES.openai.azure.com";
  // anthropic: "https://api.anthropic.com"; bedrock:
  // "https://bedrock-runtime.us-east-1.amazonaws.com".
  std::string base_url;
  std::string api_key;                             // resolved from api_key_env; never logged
  std::vector<std::string> models;                 // requested model names routed here; "*" = any
  std::map<std::string, std::string> deployments;  // azure: model -> deployment name
  std::map<std::string, std::string> model_ids;    // bedrock: model -> modelId
  std::string api_version = "2024-10-21";          // azure
  std::string anthropic_version = "2023-06-01";
  std::string region = "us-east-1";  // bedrock
  bool region_explicit = false;      // `region:` was written (else the policy's, or the default)
  std::string aws_access_key_id;     // bedrock, from env
  std::string aws_secret_access_key;
  std::string aws_session_token;
  std::string ca_file;  // "" = system CAs
};

struct ServerConfig {
  std::string address = "127.0.0.1";
  uint16_t port = 8080;  // 0 = any free port
  int io_threads = 2;
  // Threads that commit audit events while other requests are in flight, so
  // the io threads keep serving and concurrent events share one group commit.
  // 0: every audit event is committed on the io thread.
  int audit_threads = 16;
  std::string tls_cert_file;  // both set = TLS
  std::string tls_key_file;
  uint64_t max_body_bytes = 4u << 20;
  uint32_t max_header_bytes = 16u << 10;
  std::chrono::milliseconds read_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds drain_timeout{10'000};
  int max_concurrent_streams = 1024;
  std::chrono::milliseconds upstream_connect_timeout{5'000};
  std::chrono::milliseconds upstream_timeout{120'000};  // whole answer (non-stream) / first byte
  std::chrono::milliseconds upstream_idle_timeout{60'000};  // between streamed chunks
  uint64_t max_upstream_body_bytes = 32u << 20;
};

struct CacheConfig {
  bool enabled = false;
  size_t max_entries = 10'000;
  std::chrono::seconds ttl{300};
};

struct GatewayConfig {
  ServerConfig server;
  CacheConfig cache;
  std::vector<UpstreamConfig> upstreams;
  std::string store_url;  // "" = sqlite in the working directory
  // Detection engine mode (`gateway.detection`): "rules" (default: the trained
  // tagger adds ~0.5 ms per 4 KB prompt, more than the gateway's latency budget),
  // "both" (rules + stacked tagger, as bulk `phigate deid`), "model" or "union".
  std::string detection = "rules";
  // `gateway.request_tokens`: where the tokens of a request's own scope (no
  // x-phigate-conversation) live. "memory" (default): minted in the request
  // and dropped with it — its answer is re-identified from the request's own
  // map, nothing reads them from the store later, so no PHI is written at rest
  // and no vault transaction is paid. "store": sealed rows in the vault as for
  // conversation scopes (for deployments that re-identify a request's tokens
  // afterwards with `phigate reid --scope request:<x-request-id>`).
  bool request_tokens_in_store = false;
  // `gateway.detection_cache_entries`: findings of long texts (>= 256 bytes)
  // kept per tenant and conversation (x-phigate-conversation), so the history
  // a chat client resends with every turn is not scanned again; 0 = off.
  // See src/gateway/detection_cache.h.
  size_t detection_cache_entries = 10000;
  // HMAC key for the tenant-scoped opaque ids sent to providers (prompt cache, user).
  std::string tenant_key;
  // `audit.sign_interval_ms`: most time between an audit commit and a signed
  // tree head covering it (audit::AuditLogOptions::sign_interval); 0 = sign
  // every commit.
  std::chrono::milliseconds audit_sign_interval{1000};
};

// Parses the server:/gateway: sections of a YAML document (other sections are
// ignored). Resolves *_env settings from the environment. InvalidArgument with
// the key name on a bad value.
Result<GatewayConfig> ParseGatewayConfig(std::string_view yaml_text);
Result<GatewayConfig> LoadGatewayConfig(const std::string& path);

}  // namespace phigate::gateway

#endif  // PHIGATE_GATEWAY_CONFIG_H_
