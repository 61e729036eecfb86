#include "phigate/gateway/config.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "yaml-cpp/yaml.h"

namespace phigate::gateway {

std::string_view VendorKindName(VendorKind k) {
  switch (k) {
    case VendorKind::kOpenAI:
      return "openai";
    case VendorKind::kAzureOpenAI:
      return "azure-openai";
    case VendorKind::kAnthropic:
      return "anthropic";
    case VendorKind::kBedrock:
      return "bedrock";
    case VendorKind::kOpenAICompatible:
      return "openai-compatible";
  }
  return "unknown";
}

namespace {

std::string Env(const std::string& name) {
  if (name.empty()) return "";
  const char* v = std::getenv(name.c_str());
  return v == nullptr ? "" : v;
}

Status ParseKind(const std::string& s, VendorKind* out) {
  if (s == "openai")
    *out = VendorKind::kOpenAI;
  else if (s == "azure-openai" || s == "azure")
    *out = VendorKind::kAzureOpenAI;
  else if (s == "anthropic")
    *out = VendorKind::kAnthropic;
  else if (s == "bedrock")
    *out = VendorKind::kBedrock;
  else if (s == "openai-compatible" || s == "self-hosted")
    *out = VendorKind::kOpenAICompatible;
  else
    return absl::InvalidArgumentError(absl::StrCat("gateway.upstreams: unknown kind '", s, "'"));
  return absl::OkStatus();
}

template <class T>
void Get(const YAML::Node& n, const char* key, T* out) {
  if (n[key]) *out = n[key].as<T>();
}
void GetMs(const YAML::Node& n, const char* key, std::chrono::milliseconds* out) {
  if (n[key]) *out = std::chrono::milliseconds(n[key].as<int64_t>());
}

Status ParseServer(const YAML::Node& s, ServerConfig* c) {
  if (s["listen"]) {
    const std::string l = s["listen"].as<std::string>();
    const size_t colon = l.rfind(':');
    if (colon == std::string::npos) return absl::InvalidArgumentError("server.listen: host:port");
    c->address = l.substr(0, colon);
    if (!c->address.empty() && c->address.front() == '[') {
      c->address = c->address.substr(1, c->address.size() - 2);
    }
    const int port = std::atoi(l.c_str() + colon + 1);
    if (port < 0 || port > 65535) return absl::InvalidArgumentError("server.listen: bad port");
    c->port = static_cast<uint16_t>(port);
  }
  Get(s, "io_threads", &c->io_threads);
  Get(s, "audit_threads", &c->audit_threads);
  Get(s, "max_body_bytes", &c->max_body_bytes);
  Get(s, "max_header_bytes", &c->max_header_bytes);
  Get(s, "max_concurrent_streams", &c->max_concurrent_streams);
  Get(s, "max_upstream_body_bytes", &c->max_upstream_body_bytes);
  GetMs(s, "read_timeout_ms", &c->read_timeout);
  GetMs(s, "idle_timeout_ms", &c->idle_timeout);
  GetMs(s, "drain_timeout_ms", &c->drain_timeout);
  GetMs(s, "upstream_connect_timeout_ms", &c->upstream_connect_timeout);
  GetMs(s, "upstream_timeout_ms", &c->upstream_timeout);
  GetMs(s, "upstream_idle_timeout_ms", &c->upstream_idle_timeout);
  if (const YAML::Node t = s["tls"]) {
    Get(t, "cert_file", &c->tls_cert_file);
    Get(t, "key_file", &c->tls_key_file);
  }
  if (c->io_threads < 1 || c->io_threads > 256) {
    return absl::InvalidArgumentError("server.io_threads must be 1..256");
  }
  if (c->audit_threads < 0 || c->audit_threads > 256) {
    return absl::InvalidArgumentError("server.audit_threads must be 0..256");
  }
  return absl::OkStatus();
}

Status ParseUpstream(const YAML::Node& u, UpstreamConfig* c) {
  Get(u, "vendor", &c->vendor);
  if (c->vendor.empty()) Get(u, "name", &c->vendor);
  if (c->vendor.empty()) return absl::InvalidArgumentError("gateway.upstreams: vendor is required");
  std::string kind = "openai";
  c->kind_explicit = static_cast<bool>(u["kind"]);
  Get(u, "kind", &kind);
  PHIGATE_RETURN_IF_ERROR(ParseKind(kind, &c->kind));
  Get(u, "base_url", &c->base_url);
  if (c->base_url.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("gateway.upstreams[", c->vendor, "]: base_url is required"));
  }
  std::string env;
  Get(u, "api_key_env", &env);
  c->api_key = Env(env);
  if (u["models"]) c->models = u["models"].as<std::vector<std::string>>();
  if (u["deployments"]) c->deployments = u["deployments"].as<std::map<std::string, std::string>>();
  if (u["model_ids"]) c->model_ids = u["model_ids"].as<std::map<std::string, std::string>>();
  Get(u, "api_version", &c->api_version);
  Get(u, "anthropic_version", &c->anthropic_version);
  Get(u, "region", &c->region);
  c->region_explicit = static_cast<bool>(u["region"]);
  Get(u, "ca_file", &c->ca_file);
  std::string e1 = "AWS_ACCESS_KEY_ID", e2 = "AWS_SECRET_ACCESS_KEY", e3 = "AWS_SESSION_TOKEN";
  Get(u, "aws_access_key_id_env", &e1);
  Get(u, "aws_secret_access_key_env", &e2);
  Get(u, "aws_session_token_env", &e3);
  if (c->kind == VendorKind::kBedrock) {
    c->aws_access_key_id = Env(e1);
    c->aws_secret_access_key = Env(e2);
    c->aws_session_token = Env(e3);
  }
  return absl::OkStatus();
}

}  // namespace

Result<GatewayConfig> ParseGatewayConfig(std::string_view yaml_text) {
  GatewayConfig c;
  try {
    const YAML::Node root = YAML::Load(std::string(yaml_text));
    if (const YAML::Node s = root["server"]) PHIGATE_RETURN_IF_ERROR(ParseServer(s, &c.server));
    if (const YAML::Node g = root["gateway"]) {
      Get(g, "store", &c.store_url);
      Get(g, "detection", &c.detection);
      if (c.detection != "rules" && c.detection != "both" && c.detection != "model" &&
          c.detection != "union") {
        return absl::InvalidArgumentError(
            "gateway.detection must be one of rules, both, model, union");
      }
      std::string request_tokens = "memory";
      Get(g, "request_tokens", &request_tokens);
      if (request_tokens != "memory" && request_tokens != "store") {
        return absl::InvalidArgumentError("gateway.request_tokens must be memory or store");
      }
      c.request_tokens_in_store = request_tokens == "store";
      if (g["detection_cache_entries"]) {
        const int64_t n = g["detection_cache_entries"].as<int64_t>();
        if (n < 0)
          return absl::InvalidArgumentError("gateway.detection_cache_entries must be >= 0");
        c.detection_cache_entries = static_cast<size_t>(n);
      }
      std::string key_env = "PHIGATE_GATEWAY_KEY";
      Get(g, "tenant_key_env", &key_env);
      c.tenant_key = Env(key_env);
      if (const YAML::Node cache = g["cache"]) {
        Get(cache, "enabled", &c.cache.enabled);
        Get(cache, "max_entries", &c.cache.max_entries);
        if (cache["ttl_seconds"])
          c.cache.ttl = std::chrono::seconds(cache["ttl_seconds"].as<int64_t>());
      }
      if (const YAML::Node ups = g["upstreams"]) {
        for (const YAML::Node& u : ups) {
          UpstreamConfig up;
          PHIGATE_RETURN_IF_ERROR(ParseUpstream(u, &up));
          c.upstreams.push_back(std::move(up));
        }
      }
    }
    if (const YAML::Node a = root["audit"]) {
      GetMs(a, "sign_interval_ms", &c.audit_sign_interval);
      if (c.audit_sign_interval.count() < 0) {
        return absl::InvalidArgumentError("audit.sign_interval_ms must be >= 0");
      }
    }
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("gateway config: YAML error at line ", e.mark.line + 1));
  }
  return c;
}

Result<GatewayConfig> LoadGatewayConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseGatewayConfig(ss.str());
}

}  // namespace phigate::gateway
