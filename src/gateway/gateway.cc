// The request pipeline (architecture.md), stage by stage, as Envoy-style
// filters over one RequestContext; the upstream call and the streamed answer
// run in the connection's coroutine.
#include "phigate/gateway/gateway.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <optional>
#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "phigate/core/json_escape.h"
#include "phigate/gateway/containment.h"
#include "src/gateway/api.h"
#include "src/gateway/cache.h"
#include "src/gateway/converse.h"
#include "src/gateway/deid.h"
#include "src/gateway/detection_cache.h"
#include "src/gateway/http_server.h"
#include "src/gateway/metrics.h"
#include "src/gateway/sigv4.h"
#include "src/gateway/sse.h"
#include "src/gateway/upstream_client.h"
#include "src/gateway/vendors.h"

namespace phigate::gateway {

using nlohmann::json;

std::string TenantOpaqueId(std::string_view key, std::string_view tenant) {
  return "pgt_" + HexEncode(HmacSha256(key, absl::StrCat("phigate-tenant-v1:", ToAbsl(tenant))))
                      .substr(0, 32);
}

namespace {

// The audit's feature of a request refused before its feature was known.
constexpr std::string_view kUnknownFeature = "unknown";

// Bytes of streamed answer text held back for the leak scan (see Stream()).
constexpr size_t kLeakHoldBackBytes = 64;

std::string NewRequestId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "req_";
  for (int i = 0; i < 2; ++i) {
    uint64_t v = rng();
    for (int j = 0; j < 16; ++j) {
      id.push_back(kHex[v & 0xF]);
      v >>= 4;
    }
  }
  return id;
}

// HTTP status for a failed stage (style.md: one mapping function).
int HttpStatusFor(const Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kFailedPrecondition:
      return 400;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    case absl::StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

std::string_view Header(const HttpRequest& req, std::string_view name) {
  auto it = req.find(beast::string_view(name.data(), name.size()));
  if (it == req.end()) return {};
  return std::string_view(it->value().data(), it->value().size());
}

}  // namespace

// ---------------------------------------------------------------------------
// Filters (style.md): one object per request, from the shared immutable config.

enum class FilterStatus { kContinue, kStop };

struct Shared;

// Forwards to the server's writer and records how far the reply got, so a
// request that ends in an exception can still be ended properly.
class TrackingWriter : public ResponseWriter {
 public:
  enum class State { kNothing, kStreaming, kDone };
  explicit TrackingWriter(ResponseWriter& w) : w_(w) {}
  State state() const { return state_; }
  // Not coroutines: each returns the wrapped writer's awaitable as it is.
  net::awaitable<bool> Send(HttpResponse response) override {
    state_ = State::kDone;
    return w_.Send(std::move(response));
  }
  net::awaitable<bool> StartStream(
      unsigned status, std::string_view content_type,
      std::vector<std::pair<std::string, std::string>> headers) override {
    state_ = State::kStreaming;
    return w_.StartStream(status, content_type, std::move(headers));
  }
  net::awaitable<bool> SendChunk(std::string_view data) override { return w_.SendChunk(data); }
  net::awaitable<bool> EndStream() override {
    state_ = State::kDone;
    return w_.EndStream();
  }

 private:
  ResponseWriter& w_;
  State state_ = State::kNothing;
};

struct RequestContext {
  Api api = Api::kOpenAIChat;
  HttpRequest* req = nullptr;
  std::string request_id;
  json body;
  bool stream = false;
  std::string requested_model;
  // Azure OpenAI's /openai/deployments/{name}/...: the deployment named by the
  // path is the model (Azure ignores the body's).
  std::string path_model;
  Principal principal;
  bool authenticated = false;
  std::string feature;
  // The feature is one the configuration knows (a route was found for it, or
  // the policy allowed it): until then the client's header is not recorded,
  // for it may hold anything (a patient's name).
  bool feature_known = false;
  const UpstreamConfig* upstream = nullptr;
  const UpstreamEndpoint* endpoint = nullptr;
  std::string upstream_model;
  Decision decision;
  bool decided = false;
  std::shared_ptr<TokenVault> vault;
  // The detector of a conversation's request (its findings cached); before
  // `session`, which holds a reference to it.
  std::unique_ptr<CachedDetector> detector;
  std::unique_ptr<DeidSession> session;
  std::vector<std::string> subject_refs;  // hex subject blind indexes (audit)
  std::string scope;                      // the token scope of this request
  std::string session_id;                 // the conversation, or the request id (leak scan)
  bool egress_audited = false;            // the egress event is committed (the request may leave)
  bool ingress_audited = false;  // an ingress event (the answer or its failure) is committed
  // Set by a stage that stops the chain.
  int reply_status = 0;
  std::string reply_message;
  std::string failed_stage;
};

class Filter {
 public:
  virtual ~Filter() = default;
  virtual std::string_view name() const = 0;
  virtual FilterStatus OnRequest(RequestContext& ctx) = 0;

 protected:
  static FilterStatus Stop(RequestContext& ctx, std::string_view stage, int status,
                           std::string_view message) {
    ctx.reply_status = status;
    ctx.reply_message = std::string(message);
    ctx.failed_stage = std::string(stage);
    return FilterStatus::kStop;
  }
  static FilterStatus Stop(RequestContext& ctx, std::string_view stage, const Status& s) {
    return Stop(ctx, stage, HttpStatusFor(s), FromAbsl(s.message()));
  }
};

struct Shared {
  GatewayConfig config;
  GatewayDeps deps;
  std::vector<UpstreamEndpoint> endpoints;  // parallel to config.upstreams
  Metrics metrics;
  std::unique_ptr<UpstreamClient> client;
  std::unique_ptr<ResponseCache> cache;
  std::unique_ptr<DetectionCache> detection_cache;  // null: off
  std::atomic<int64_t> streams{0};
  std::atomic<int64_t> in_flight{0};  // requests inside Pipeline()
  // Audit commits while other requests are in flight (ServerConfig::audit_threads).
  std::unique_ptr<net::thread_pool> audit_pool;
};

// 1. auth: API key -> tenant, user, roles. No tenant, no request.
class AuthFilter : public Filter {
 public:
  explicit AuthFilter(const Shared& s) : s_(s) {}
  std::string_view name() const override { return "auth"; }
  FilterStatus OnRequest(RequestContext& ctx) override {
    std::string_view key = Header(*ctx.req, "x-api-key");
    if (key.empty()) key = Header(*ctx.req, "api-key");  // the Azure OpenAI SDKs
    if (key.empty()) {
      std::string_view authz = Header(*ctx.req, "authorization");
      if (authz.size() > 7 && absl::EqualsIgnoreCase(ToAbsl(authz.substr(0, 7)), "bearer ")) {
        key = authz.substr(7);
      }
    }
    if (key.empty()) return Stop(ctx, name(), 401, "missing API key");
    Result<Principal> p = s_.deps.auth->Authenticate(key);
    if (!p.ok()) return Stop(ctx, name(), 401, "invalid API key");
    ctx.principal = std::move(p).value();
    ctx.authenticated = true;
    return FilterStatus::kContinue;
  }

 private:
  const Shared& s_;
};

// 2. route: body, model, feature -> vendor route.
class RouteFilter : public Filter {
 public:
  explicit RouteFilter(const Shared& s) : s_(s) {}
  std::string_view name() const override { return "route"; }
  FilterStatus OnRequest(RequestContext& ctx) override {
    ctx.body = ParseJson(ctx.req->body());
    if (ctx.body.is_discarded() || !ctx.body.is_object()) {
      return Stop(ctx, name(), 400, "the request body is not a JSON object");
    }
    if (!ctx.path_model.empty()) ctx.body["model"] = ctx.path_model;
    auto m = ctx.body.find("model");
    if (m == ctx.body.end() || !m->is_string() || m->get_ref<const std::string&>().empty()) {
      return Stop(ctx, name(), 400, "the request has no model");
    }
    ctx.requested_model = m->get<std::string>();
    if (auto st = ctx.body.find("stream"); st != ctx.body.end() && st->is_boolean()) {
      ctx.stream = st->get<bool>();
    }
    if (ctx.api == Api::kOpenAIEmbeddings || ctx.api == Api::kAnthropicCountTokens) {
      ctx.stream = false;
    }
    ctx.feature = std::string(Header(*ctx.req, "x-phigate-feature"));
    if (ctx.feature.empty()) ctx.feature = ctx.principal.default_feature;
    if (ctx.feature.empty()) {
      return Stop(ctx, name(), 400,
                  "no feature: send the x-phigate-feature header or bind one to the API key");
    }
    const std::string_view hint = Header(*ctx.req, "x-phigate-vendor");
    if (s_.deps.router != nullptr) {
      Result<std::vector<RouteTarget>> targets = s_.deps.router->Routes(
          ctx.principal, ctx.feature, ApiEndpoint(ctx.api), ctx.requested_model, hint);
      if (!targets.ok() || targets->empty()) {
        return Stop(ctx, name(), 404, "no route to a vendor for this model and feature");
      }
      ctx.feature_known = true;
      // The first route whose vendor speaks this API.
      for (const RouteTarget& t : *targets) {
        if (Choose(ctx, [&](const UpstreamConfig& up) { return up.vendor == t.vendor; })) {
          ctx.upstream_model = t.upstream_model;
          break;
        }
      }
    } else {
      Choose(ctx, [&](const UpstreamConfig& up) {
        if (!hint.empty() && up.vendor != hint) return false;
        bool listed = false;
        for (const std::string& name : up.models) {
          listed |= name == "*" || name == ctx.requested_model;
        }
        return listed;
      });
    }
    if (ctx.upstream == nullptr) {
      return Stop(ctx, name(), 404, "no upstream serves this model on this API");
    }
    if (ctx.upstream_model.empty()) ctx.upstream_model = ctx.requested_model;
    return FilterStatus::kContinue;
  }

 private:
  // Takes the first configured upstream that serves the request's API and
  // that `match` accepts.
  template <class Match>
  bool Choose(RequestContext& ctx, Match match) const {
    for (size_t i = 0; i < s_.config.upstreams.size(); ++i) {
      const UpstreamConfig& up = s_.config.upstreams[i];
      if (!KindServes(up.kind, ctx.api) || !match(up)) continue;
      ctx.upstream = &up;
      ctx.endpoint = &s_.endpoints[i];
      return true;
    }
    return false;
  }

  const Shared& s_;
};

// 3. policy: tenant + feature + vendor/model -> decision table.
class PolicyFilter : public Filter {
 public:
  explicit PolicyFilter(Shared& s) : s_(s) {}
  std::string_view name() const override { return "policy"; }
  FilterStatus OnRequest(RequestContext& ctx) override {
    if (s_.deps.containment != nullptr &&
        s_.deps.containment->Suspended(ctx.principal.tenant, ctx.feature, ctx.upstream->vendor)) {
      s_.metrics.Inc("phigate_policy_decisions_total", "result=\"suspended\"");
      return Stop(ctx, name(), 503,
                  "suspended by breach containment for this tenant; request refused");
    }
    // The model by the name the policy declares (an alias's upstream name is
    // not one of its names), the endpoint the vendor is called at (Bedrock's
    // "converse" for a chat or messages request).
    DecisionRequest dr{&ctx.principal, ctx.feature, ctx.upstream->vendor,
                       VendorEndpoint(ctx.upstream->kind, ctx.api), ctx.requested_model};
    Result<Decision> d = s_.deps.policy->Decide(dr);
    if (!d.ok()) {
      s_.metrics.Inc("phigate_policy_decisions_total", "result=\"error\"");
      return Stop(ctx, name(), 503, "the policy is not available; request refused");
    }
    ctx.decision = std::move(d).value();
    ctx.decided = true;
    if (ctx.decision.allowed) ctx.feature_known = true;
    if (!ctx.decision.allowed) {
      s_.metrics.Inc("phigate_policy_decisions_total", "result=\"deny\"");
      std::string msg = "denied by policy";
      if (!ctx.decision.reasons.empty()) msg += ": " + ctx.decision.reasons.front();
      return Stop(ctx, name(), 403, msg);
    }
    s_.metrics.Inc("phigate_policy_decisions_total", "result=\"allow\"");
    return FilterStatus::kContinue;
  }

 private:
  Shared& s_;
};

// 4+5. detect + transform every text field per the decision table.
class DeidentifyFilter : public Filter {
 public:
  explicit DeidentifyFilter(Shared& s) : s_(s) {}
  std::string_view name() const override { return "transform"; }
  FilterStatus OnRequest(RequestContext& ctx) override {
    bool reversible = false;
    for (Action a : ctx.decision.actions) {
      reversible |= a == Action::kTokenize || a == Action::kSurrogate;
    }
    if (reversible) {
      if (s_.deps.vaults == nullptr) {
        s_.metrics.Inc("phigate_stage_failures_total", "stage=\"vault\"");
        return Stop(ctx, "vault", 503, "the token vault is not available; request refused");
      }
      Result<std::shared_ptr<TokenVault>> v = s_.deps.vaults->ForTenant(ctx.principal.tenant);
      if (!v.ok()) {
        s_.metrics.Inc("phigate_stage_failures_total", "stage=\"vault\"");
        return Stop(ctx, "vault", 503, "the token vault is not available; request refused");
      }
      ctx.vault = std::move(v).value();
    }
    std::string scope;
    const std::string_view conv = Header(*ctx.req, "x-phigate-conversation");
    ctx.session_id = conv.empty() ? ctx.request_id : absl::StrCat("conv:", ToAbsl(conv));
    if (ctx.decision.token_scope == "tenant") {
      scope = "tenant";
    } else if (ctx.decision.token_scope == "conversation") {
      scope = ctx.session_id;
    } else {
      scope = ctx.request_id;
    }
    ctx.scope = scope;
    const Detector* detector = s_.deps.detector.get();
    if (s_.detection_cache != nullptr && !conv.empty()) {
      // Partitioned by tenant and conversation (length-prefixed: no two pairs
      // make one partition).
      ctx.detector = std::make_unique<CachedDetector>(
          *detector, s_.detection_cache.get(),
          absl::StrCat(ctx.principal.tenant.value().size(), ":", ctx.principal.tenant.value(),
                       ToAbsl(conv)));
      detector = ctx.detector.get();
    }
    ctx.session = std::make_unique<DeidSession>(*detector, s_.deps.redactor.get(), ctx.vault.get(),
                                                ctx.decision, std::move(scope));
    DeidSession* session = ctx.session.get();
    // Every field is scanned first, then every new token of the request is
    // minted in one vault transaction, then the fields are rewritten.
    Status st = ForEachRequestText(ctx.api, ctx.body,
                                   [session](std::string* t) { return session->Scan(*t); });
    if (st.ok()) st = session->Mint();
    if (st.ok()) {
      st = ForEachRequestText(ctx.api, ctx.body,
                              [session](std::string* t) { return session->Apply(t); });
    }
    if (st.ok()) st = session->FinishFields();
    if (ctx.detector != nullptr) {
      if (ctx.detector->hits() > 0) {
        s_.metrics.Inc("phigate_detection_cache_total", "result=\"hit\"", ctx.detector->hits());
      }
      if (ctx.detector->misses() > 0) {
        s_.metrics.Inc("phigate_detection_cache_total", "result=\"miss\"", ctx.detector->misses());
      }
    }
    if (!st.ok()) {
      switch (session->failure()) {
        case DeidFailure::kBlocked:
          s_.metrics.Inc("phigate_transform_blocked_total");
          return Stop(ctx, name(), 403, FromAbsl(st.message()));
        case DeidFailure::kDetect:
          s_.metrics.Inc("phigate_stage_failures_total", "stage=\"detect\"");
          return Stop(ctx, "detect", 500, "PHI detection failed; request refused");
        case DeidFailure::kVault:
          s_.metrics.Inc("phigate_stage_failures_total", "stage=\"vault\"");
          return Stop(ctx, "vault", 503, "the token vault failed; request refused");
        case DeidFailure::kRedact:
          s_.metrics.Inc("phigate_stage_failures_total", "stage=\"transform\"");
          return Stop(ctx, name(), 500, "redaction failed; request refused");
        case DeidFailure::kNone:
          break;
      }
      return Stop(ctx, name(), st);  // the request's shape (400)
    }
    const DeidStats& stats = session->stats();
    for (size_t a = 0; a < stats.action_counts.size(); ++a) {
      if (stats.action_counts[a] == 0) continue;
      s_.metrics.Inc("phigate_transform_actions_total",
                     absl::StrCat("action=\"", ToAbsl(ActionName(static_cast<Action>(a))), "\""),
                     stats.action_counts[a]);
    }
    return IndexSubjects(ctx);
  }

 private:
  // The patients the request names, as subject blind indexes for the audit
  // events (never the identifiers). An indexer failure refuses: the request
  // could not be audited completely.
  FilterStatus IndexSubjects(RequestContext& ctx) {
    const SubjectIndexer* ix = s_.deps.subjects.get();
    if (ix == nullptr) return FilterStatus::kContinue;
    Status failed;
    ctx.session->ForEachValue([&](PhiCategory c, std::string_view original) {
      if (!failed.ok() || !ix->NamesPatient(c)) return;
      Result<std::string> ref = ix->Index(ctx.principal.tenant, c, original);
      if (ref.ok()) {
        ctx.subject_refs.push_back(std::move(ref).value());
      } else if (ref.status().code() != absl::StatusCode::kInvalidArgument) {
        failed = ref.status();
      }
    });
    if (!failed.ok()) {
      s_.metrics.Inc("phigate_stage_failures_total", "stage=\"audit\"");
      return Stop(ctx, "audit", 503, "the audit trail is not available; request refused");
    }
    std::sort(ctx.subject_refs.begin(), ctx.subject_refs.end());
    ctx.subject_refs.erase(std::unique(ctx.subject_refs.begin(), ctx.subject_refs.end()),
                           ctx.subject_refs.end());
    return FilterStatus::kContinue;
  }

  Shared& s_;
};

// ---------------------------------------------------------------------------

struct Gateway::Impl {
  Shared shared;
  std::unique_ptr<HttpServer> server;

  AuditRecord BaseRecord(const RequestContext& ctx) const {
    AuditRecord r;
    r.tenant = ctx.principal.tenant;
    r.user = ctx.principal.user;
    r.roles = ctx.principal.roles;
    r.key_id = ctx.principal.key_id;
    r.feature = ctx.feature_known ? ctx.feature : std::string(kUnknownFeature);
    r.purpose = ctx.decision.purpose;
    r.request_id = ctx.request_id;
    r.api = std::string(ApiName(ctx.api));
    if (ctx.upstream != nullptr) {
      r.vendor = ctx.upstream->vendor;
      r.endpoint = ctx.upstream->base_url;
    }
    r.model = ctx.upstream_model;
    r.baa_id = ctx.decision.baa_id;
    r.policy_version = ctx.decision.policy_version;
    r.reasons = ctx.decision.reasons;
    r.subject_refs = ctx.subject_refs;
    if (ctx.session) {
      const DeidStats& st = ctx.session->stats();
      r.category_counts = st.category_counts;
      r.action_counts = st.action_counts;
      r.sent_as_written = st.sent_as_written;
      r.tokens_minted = st.tokens_minted;
      r.tokens_reidentified = st.tokens_reidentified;
    }
    return r;
  }

  void CountRequest(Api api, int status) {
    shared.metrics.Inc("phigate_requests_total", absl::StrCat("route=\"", ToAbsl(ApiName(api)),
                                                              "\",status=\"", status, "\""));
  }

  net::awaitable<void> ReplyError(RequestContext& ctx, ResponseWriter& w, int status,
                                  std::string_view message) {
    HttpResponse res{static_cast<http::status>(status), 11};
    res.set(http::field::content_type, "application/json");
    res.set("x-request-id", ctx.request_id);
    res.body() = ErrorJson(ctx.api, status, message);
    CountRequest(ctx.api, status);
    co_await w.Send(std::move(res));
  }

  net::awaitable<void> ReplyJson(RequestContext& ctx, ResponseWriter& w, std::string body,
                                 std::vector<std::pair<std::string, std::string>> extra = {}) {
    HttpResponse res{http::status::ok, 11};
    res.set(http::field::content_type, "application/json");
    res.set("x-request-id", ctx.request_id);
    for (auto& [k, v] : extra) res.set(k, v);
    res.body() = std::move(body);
    CountRequest(ctx.api, 200);
    co_await w.Send(std::move(res));
  }

  // Commits one audit event and resumes when it is committed. With only this
  // request in flight the commit runs right here (no thread hand-off). With
  // others in flight it runs on the audit threads: the io thread keeps serving
  // the other connections meanwhile, and events committed at the same time
  // share one group commit (AuditLog: one transaction, one signed head). In
  // both cases the caller continues only once the event is committed.
  net::awaitable<Status> CommitAudit(AuditRecord r) {
    if (shared.audit_pool == nullptr || shared.in_flight.load(std::memory_order_relaxed) <= 1) {
      co_return shared.deps.audit->Commit(r);
    }
    // A plain hand-off (no coroutine frame on the audit thread): the record and
    // this coroutine's completion handler go to an audit thread, which commits
    // and posts the handler back to the io executor with the status.
    AuditSink* sink = shared.deps.audit.get();
    net::thread_pool& pool = *shared.audit_pool;
    co_return co_await net::async_initiate<decltype(net::use_awaitable), void(Status)>(
        [sink, &pool](auto handler, AuditRecord rec) {
          auto work = net::make_work_guard(net::get_associated_executor(handler));
          net::post(pool, [sink, rec = std::move(rec), handler = std::move(handler),
                           work = std::move(work)]() mutable {
            Status st = sink->Commit(rec);
            auto io = work.get_executor();
            net::post(io, [handler = std::move(handler), st = std::move(st)]() mutable {
              handler(std::move(st));
            });
            work.reset();
          });
        },
        net::use_awaitable, std::move(r));
  }

  // Audit of a refused request (best effort: the request is refused anyway).
  net::awaitable<void> AuditRefusal(const RequestContext& ctx, int status) {
    if (!ctx.authenticated) co_return;
    AuditRecord r = BaseRecord(ctx);
    r.phase = AuditPhase::kRefused;
    r.outcome = status == 403 ? AuditOutcome::kBlocked : AuditOutcome::kError;
    r.http_status = status;
    if (!ctx.failed_stage.empty()) r.reasons.push_back("refused at stage " + ctx.failed_stage);
    if (!(co_await CommitAudit(std::move(r))).ok()) {
      shared.metrics.Inc("phigate_stage_failures_total", "stage=\"audit\"");
    }
  }

  net::awaitable<void> Handle(HttpRequest& req, ResponseWriter& w) {
    const std::string_view target(req.target().data(), req.target().size());
    const std::string_view path = target.substr(0, target.find('?'));
    if (req.method() == http::verb::get) {
      if (path == "/healthz") {
        HttpResponse res{http::status::ok, 11};
        res.set(http::field::content_type, "application/json");
        res.body() = R"({"status":"ok"})";
        co_await w.Send(std::move(res));
        co_return;
      }
      if (path == "/readyz") {
        co_await Ready(w);
        co_return;
      }
      if (path == "/metrics") {
        HttpResponse res{http::status::ok, 11};
        res.set(http::field::content_type, "text/plain; version=0.0.4");
        res.body() = shared.metrics.Render();
        co_await w.Send(std::move(res));
        co_return;
      }
    }
    // Azure OpenAI's paths, for clients of its SDKs (AzureOpenAI): a deployment's
    // /openai/deployments/{name}/chat/completions?api-version=... and
    // .../embeddings; the client's other calls (/openai/responses,
    // /openai/models) and the v1 surface (/openai/v1/...) are the gateway's own
    // paths under /openai. The api-version is not read: the answer is in the
    // OpenAI format every version shares.
    std::string_view api_path = path;
    std::string path_model;
    if (constexpr std::string_view kDeployments = "/openai/deployments/";
        path.starts_with(kDeployments)) {
      const std::string_view rest = path.substr(kDeployments.size());
      const size_t slash = rest.find('/');
      api_path = "";
      if (slash != 0 && slash != std::string_view::npos &&
          (rest.substr(slash) == "/chat/completions" || rest.substr(slash) == "/embeddings")) {
        path_model = PercentDecoded(rest.substr(0, slash));
        api_path = rest.substr(slash);
      }
    } else if (path.starts_with("/openai/")) {
      api_path = path.substr(std::string_view("/openai").size());
    }
    if (api_path == "/v1/models" || api_path == "/models") {
      co_await ListModels(req, w, std::nullopt);
      co_return;
    }
    for (std::string_view prefix : {"/v1/models/", "/models/"}) {
      if (api_path.starts_with(prefix) && api_path.size() > prefix.size()) {
        co_await ListModels(req, w, PercentDecoded(api_path.substr(prefix.size())));
        co_return;
      }
    }
    RequestContext ctx;
    ctx.req = &req;
    ctx.request_id = NewRequestId();
    ctx.path_model = std::move(path_model);
    if (api_path == "/v1/chat/completions" || api_path == "/chat/completions") {
      ctx.api = Api::kOpenAIChat;
    } else if (api_path == "/v1/embeddings" || api_path == "/embeddings") {
      ctx.api = Api::kOpenAIEmbeddings;
    } else if (api_path == "/v1/responses" || api_path == "/responses") {
      ctx.api = Api::kOpenAIResponses;
    } else if (path == "/v1/messages") {
      ctx.api = Api::kAnthropicMessages;
    } else if (path == "/v1/messages/count_tokens") {
      ctx.api = Api::kAnthropicCountTokens;
    } else {
      co_await ReplyError(ctx, w, 404, "unknown endpoint");
      co_return;
    }
    if (req.method() != http::verb::post) {
      co_await ReplyError(ctx, w, 405, "use POST");
      co_return;
    }
    const auto t0 = std::chrono::steady_clock::now();
    struct InFlight {
      explicit InFlight(std::atomic<int64_t>& n) : n_(n) { n_.fetch_add(1); }
      ~InFlight() { n_.fetch_sub(1); }
      std::atomic<int64_t>& n_;
    } in_flight(shared.in_flight);
    // An exception escaping the pipeline (a bug, or a library throwing on
    // input nobody foresaw) would end this connection's coroutine silently:
    // no reply, no audit of the answer. It ends the request like any other
    // failure instead (InternalError).
    TrackingWriter tw(w);
    bool threw = false;
    try {
      co_await Pipeline(ctx, tw);
    } catch (...) {
      threw = true;
    }
    if (threw) co_await InternalError(ctx, tw);
    shared.metrics.ObserveLatencyUs(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
            .count()));
  }

  // The end of a request whose pipeline threw: counted, audited (an ingress
  // error when it was forwarded, else a refusal), and answered with a 500, or
  // an error event when its stream had begun. Nothing of the exception (whose
  // text may quote input) reaches the client, the metrics or the audit trail.
  net::awaitable<void> InternalError(RequestContext& ctx, TrackingWriter& w) {
    shared.metrics.Inc("phigate_internal_errors_total");
    if (ctx.ingress_audited) {
      // The answer was already audited; only the reply is left.
    } else if (ctx.egress_audited) {
      co_await AuditIngress(ctx, AuditOutcome::kError, 500);
    } else {
      ctx.failed_stage = "internal";
      co_await AuditRefusal(ctx, 500);
    }
    constexpr std::string_view kMessage = "internal error; request ended";
    if (w.state() == TrackingWriter::State::kNothing) {
      co_await ReplyError(ctx, w, 500, kMessage);
    } else if (w.state() == TrackingWriter::State::kStreaming) {
      std::string out;
      StreamRewriter::Create(ctx.api, nullptr)->AppendError(kMessage, &out);
      if (co_await w.SendChunk(out)) co_await w.EndStream();
    }
  }

  // "%3A" -> ':' (a path segment as the SDKs encode a model id); a bad
  // escape stays as written.
  static std::string PercentDecoded(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
      int hi = 0, lo = 0;
      if (s[i] == '%' && i + 2 < s.size() && (hi = HexDigit(s[i + 1])) >= 0 &&
          (lo = HexDigit(s[i + 2])) >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
      } else {
        out.push_back(s[i]);
      }
    }
    return out;
  }
  static int HexDigit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  // GET /v1/models: the models the caller's feature may call (the policy's
  // routes, kept when the policy allows the model on one of the vendor's
  // endpoints; without a router, the upstreams' model lists), in OpenAI's
  // list format, or Anthropic's when the client sends anthropic-version.
  // GET /v1/models/{id}: one of them (404 for any other). It reads and sends
  // nothing of a patient: no audit event.
  net::awaitable<void> ListModels(HttpRequest& req, ResponseWriter& w,
                                  std::optional<std::string> id) {
    RequestContext ctx;
    ctx.req = &req;
    ctx.request_id = NewRequestId();
    const bool anthropic = !Header(req, "anthropic-version").empty();
    ctx.api = anthropic ? Api::kAnthropicMessages : Api::kOpenAIChat;
    int status = 200;
    std::string message;
    std::string feature;
    if (req.method() != http::verb::get) {
      status = 405;
      message = "use GET";
    } else if (AuthFilter auth(shared); auth.OnRequest(ctx) == FilterStatus::kStop) {
      status = ctx.reply_status;
      message = ctx.reply_message;
    } else {
      feature = std::string(Header(req, "x-phigate-feature"));
      if (feature.empty()) feature = ctx.principal.default_feature;
      if (feature.empty()) {
        status = 400;
        message = "no feature: send the x-phigate-feature header or bind one to the API key";
      }
    }
    HttpResponse res{static_cast<http::status>(status), 11};
    res.set(http::field::content_type, "application/json");
    res.set("x-request-id", ctx.request_id);
    auto count = [this](int s) {
      shared.metrics.Inc("phigate_requests_total",
                         absl::StrCat("route=\"models\",status=\"", s, "\""));
    };
    if (status != 200) {
      count(status);
      res.body() = ErrorJson(ctx.api, status, message);
      co_await w.Send(std::move(res));
      co_return;
    }
    std::vector<ListedModel> models;
    if (shared.deps.router != nullptr) {
      models = shared.deps.router->Models(ctx.principal, feature);
    } else {
      for (const UpstreamConfig& up : shared.config.upstreams) {
        for (const std::string& m : up.models) {
          bool known = false;
          for (const ListedModel& l : models) known |= l.model == m;
          if (m != "*" && !known) models.push_back(ListedModel{m, up.vendor});
        }
      }
    }
    auto entry = [anthropic](const ListedModel& m) -> json {
      if (anthropic) {
        return {{"type", "model"},
                {"id", m.model},
                {"display_name", m.model},
                {"created_at", "1970-01-01T00:00:00Z"}};
      }
      return {{"id", m.model}, {"object", "model"}, {"created", 0}, {"owned_by", m.vendor}};
    };
    if (id.has_value()) {
      for (const ListedModel& m : models) {
        if (m.model != *id) continue;
        count(200);
        res.body() = DumpJson(entry(m));
        co_await w.Send(std::move(res));
        co_return;
      }
      count(404);
      res.result(http::status::not_found);
      res.body() = ErrorJson(ctx.api, 404, "no such model for this feature");
      co_await w.Send(std::move(res));
      co_return;
    }
    count(200);
    json data = json::array();
    for (const ListedModel& m : models) data.push_back(entry(m));
    json body;
    if (anthropic) {
      body = {{"data", data},
              {"has_more", false},
              {"first_id", models.empty() ? json(nullptr) : json(models.front().model)},
              {"last_id", models.empty() ? json(nullptr) : json(models.back().model)}};
    } else {
      body = {{"object", "list"}, {"data", data}};
    }
    res.body() = DumpJson(body);
    co_await w.Send(std::move(res));
  }

  net::awaitable<void> Ready(ResponseWriter& w) {
    json checks = json::object();
    checks["policy"] = shared.deps.policy->loaded();
    checks["audit"] = shared.deps.audit->ready();
    checks["vault"] = shared.deps.vaults == nullptr || shared.deps.vaults->ready();
    checks["accepting"] = !(server && server->draining());
    bool ok = true;
    for (auto& [k, v] : checks.items()) ok = ok && v.get<bool>();
    HttpResponse res{ok ? http::status::ok : http::status::service_unavailable, 11};
    res.set(http::field::content_type, "application/json");
    res.body() = DumpJson(json{{"ready", ok}, {"checks", checks}});
    co_await w.Send(std::move(res));
  }

  net::awaitable<void> Pipeline(RequestContext& ctx, ResponseWriter& w) {
    bool stopped = false;
    {
      AuthFilter auth(shared);
      RouteFilter route(shared);
      PolicyFilter policy(shared);
      DeidentifyFilter deid(shared);
      Filter* chain[] = {&auth, &route, &policy, &deid};
      for (Filter* f : chain) {
        if (f->OnRequest(ctx) == FilterStatus::kStop) {
          stopped = true;
          break;
        }
      }
    }
    if (stopped) {
      co_await AuditRefusal(ctx, ctx.reply_status);
      co_await ReplyError(ctx, w, ctx.reply_status, ctx.reply_message);
      co_return;
    }
    DeidSession* reid = ctx.decision.reidentify ? ctx.session.get() : nullptr;

    // Build the vendor request (de-identified body only from here on).
    VendorCallOptions vo;
    vo.upstream_model = ctx.upstream_model;
    if (!shared.config.tenant_key.empty()) {
      vo.tenant_opaque_id = TenantOpaqueId(shared.config.tenant_key, ctx.principal.tenant.value());
    }
    vo.client_anthropic_version = std::string(Header(*ctx.req, "anthropic-version"));
    Result<VendorCall> call =
        BuildVendorCall(*ctx.upstream, *ctx.endpoint, ctx.api, ctx.body, ctx.stream, vo);
    if (!call.ok()) {
      ctx.failed_stage = "upstream";
      co_await AuditRefusal(ctx, 400);
      co_await ReplyError(ctx, w, 400, FromAbsl(call.status().message()));
      co_return;
    }

    // Exact-match cache (non-streamed answers), partitioned by tenant + policy.
    std::string cache_key;
    if (shared.cache && !ctx.stream) {
      cache_key = ResponseCache::Key(ctx.principal.tenant.value(), ctx.decision.policy_version,
                                     ctx.upstream->vendor, ApiName(ctx.api), call->request.body);
      if (std::optional<std::string> hit = shared.cache->Get(cache_key)) {
        shared.metrics.Inc("phigate_cache_total", "result=\"hit\"");
        co_await Answer(ctx, w, std::move(*hit), reid, /*from_cache=*/true, "");
        co_return;
      }
      shared.metrics.Inc("phigate_cache_total", "result=\"miss\"");
    }

    if (ctx.stream && shared.streams.load() >= shared.config.server.max_concurrent_streams) {
      shared.metrics.Inc("phigate_stage_failures_total", "stage=\"stream_limit\"");
      ctx.failed_stage = "stream_limit";  // refused after authentication: audited like any other
      co_await AuditRefusal(ctx, 429);
      co_await ReplyError(ctx, w, 429, "too many concurrent streams; retry later");
      co_return;
    }

    // Audit (egress): durably committed before any byte leaves.
    {
      AuditRecord r = BaseRecord(ctx);
      r.phase = AuditPhase::kEgress;
      r.outcome = AuditOutcome::kForwarded;
      if (Status s = co_await CommitAudit(std::move(r)); !s.ok()) {
        shared.metrics.Inc("phigate_stage_failures_total", "stage=\"audit\"");
        co_await ReplyError(ctx, w, 503, "the audit trail is not available; request refused");
        co_return;
      }
      ctx.egress_audited = true;
    }

    if (ctx.stream) {
      co_await Stream(ctx, w, *call, reid);
      co_return;
    }
    // Whole answer.
    Result<UpstreamResponse> res = co_await shared.client->Send(call->request);
    if (!res.ok()) {
      co_await UpstreamFailed(ctx, w, res.status());
      co_return;
    }
    if (res->status != 200) {
      co_await UpstreamStatus(ctx, w, res->status);
      co_return;
    }
    std::string body = std::move(res->body);
    if (call->bedrock) {
      Result<json> answer = FromConverse(ctx.api, ParseJson(body), ctx.requested_model);
      if (!answer.ok()) {
        co_await UpstreamFailed(ctx, w, answer.status());
        co_return;
      }
      body = DumpJson(*answer);
    }
    co_await Answer(ctx, w, std::move(body), reid, /*from_cache=*/false, cache_key);
  }

  net::awaitable<void> UpstreamFailed(RequestContext& ctx, ResponseWriter& w, const Status& s) {
    const bool timeout = s.code() == absl::StatusCode::kDeadlineExceeded;
    shared.metrics.Inc("phigate_upstream_errors_total",
                       timeout ? "kind=\"timeout\"" : "kind=\"unavailable\"");
    // An upstream that never got a byte of the request received no PHI: the
    // accounting of disclosures says so.
    co_await AuditIngress(ctx, AuditOutcome::kError, timeout ? 504 : 502,
                          UpstreamNeverSent(s) ? kReasonUpstreamNotSent : "");
    co_await ReplyError(
        ctx, w, timeout ? 504 : 502,
        timeout ? "the upstream model timed out" : "the upstream model is unavailable");
  }

  net::awaitable<void> UpstreamStatus(RequestContext& ctx, ResponseWriter& w, unsigned status) {
    shared.metrics.Inc("phigate_upstream_errors_total",
                       absl::StrCat("kind=\"status\",status=\"", status, "\""));
    co_await AuditIngress(ctx, AuditOutcome::kError, static_cast<int>(status));
    // The vendor's error text may quote the (de-identified) request; send only
    // the status. A client error (4xx) is the client's to see; any other
    // status but 200 (1xx, 204, 304, 3xx: no body allowed, or no answer) is
    // the upstream failing.
    const int out = status >= 400 && status < 500 ? static_cast<int>(status) : 502;
    co_await ReplyError(ctx, w, out,
                        absl::StrCat("the upstream model returned HTTP status ", status));
  }

  net::awaitable<bool> AuditIngress(RequestContext& ctx, AuditOutcome outcome, int status,
                                    std::string_view reason = {}) {
    AuditRecord r = BaseRecord(ctx);
    r.phase = AuditPhase::kIngress;
    r.outcome = outcome;
    r.http_status = status;
    if (!reason.empty()) r.reasons.emplace_back(reason);
    ctx.ingress_audited = true;
    if (!(co_await CommitAudit(std::move(r))).ok()) {
      shared.metrics.Inc("phigate_stage_failures_total", "stage=\"audit\"");
      co_return false;
    }
    co_return true;
  }

  // Leak scan of de-identified answer text.
  struct LeakOutcome {
    bool deliver = true;              // false: withhold (scanner error or verdict)
    std::vector<std::string> redact;  // deliver with these substrings redacted
    std::string incident_id;
    std::string Message(std::string_view base) const {
      return incident_id.empty() ? std::string(base)
                                 : absl::StrCat(ToAbsl(base), " (incident ", incident_id, ")");
    }
  };
  LeakOutcome LeakCheck(RequestContext& ctx, std::string_view scan, bool from_cache) {
    LeakOutcome o;
    if (shared.deps.leak == nullptr || scan.empty()) return o;
    const std::vector<SentValue> sent = ctx.session->SentValues();
    LeakScanContext lc;
    lc.who = &ctx.principal;
    lc.request_id = ctx.request_id;
    lc.feature = ctx.feature;
    if (ctx.upstream != nullptr) lc.vendor = ctx.upstream->vendor;
    lc.policy_version = ctx.decision.policy_version;
    lc.scope = ctx.scope;
    lc.session_id = ctx.session_id;
    lc.sent_values = &sent;
    lc.sent_text = ctx.session->sent_text();
    lc.from_cache = from_cache;
    Result<LeakScanResult> v = shared.deps.leak->ScanAnswer(lc, scan);
    if (!v.ok()) {
      shared.metrics.Inc("phigate_stage_failures_total", "stage=\"leak_scan\"");
      o.deliver = false;
      return o;
    }
    o.incident_id = v->incident_id;
    if (!o.incident_id.empty()) shared.metrics.Inc("phigate_leak_incidents_total");
    if (v->verdict == LeakVerdict::kWithhold ||
        (v->verdict == LeakVerdict::kRedact && v->redact.empty())) {
      shared.metrics.Inc("phigate_leak_withheld_total");
      o.deliver = false;
    } else if (v->verdict == LeakVerdict::kRedact) {
      shared.metrics.Inc("phigate_leak_redacted_total");
      o.redact = std::move(v->redact);
    }
    return o;
  }
  bool LeakClean(RequestContext& ctx, std::string_view scan) {
    return LeakCheck(ctx, scan, false).deliver;
  }

  // Replaces every occurrence of each value (and of its JSON-escaped form, for
  // SSE/JSON text) with "[REDACTED]".
  static void RedactText(const std::vector<std::string>& values, bool json_too, std::string* s) {
    for (const std::string& v : values) {
      if (v.empty()) continue;
      std::string esc;
      AppendJsonEscaped(v, &esc);
      const std::string* needles[] = {&v, &esc};
      for (const std::string* needle : needles) {
        if (needle == &esc && (!json_too || esc == v)) continue;
        for (size_t p = s->find(*needle); p != std::string::npos; p = s->find(*needle, p + 10)) {
          s->replace(p, needle->size(), "[REDACTED]");
        }
      }
    }
  }
  static void RedactJson(const std::vector<std::string>& values, json& j) {
    if (j.is_string()) {
      RedactText(values, false, j.get_ptr<std::string*>());
    } else if (j.is_object() || j.is_array()) {
      for (auto& v : j) RedactJson(values, v);
    }
  }

  net::awaitable<void> Answer(RequestContext& ctx, ResponseWriter& w, std::string body,
                              DeidSession* reid, bool from_cache, const std::string& cache_key) {
    json j = ParseJson(body);
    if (j.is_discarded()) {
      co_await UpstreamFailed(ctx, w, absl::DataLossError("malformed upstream answer"));
      co_return;
    }
    if (!from_cache && !cache_key.empty()) {
      shared.cache->Put(cache_key, body, ctx.principal.tenant.value());
    }
    std::string scan;
    RewriteResponse(ctx.api, j, reid, &scan);
    const LeakOutcome leak = LeakCheck(ctx, scan, from_cache);
    if (!leak.deliver) {
      co_await AuditIngress(ctx, AuditOutcome::kBlocked, 502);
      co_await ReplyError(ctx, w, 502, leak.Message("the answer was withheld by leak detection"));
      co_return;
    }
    if (!leak.redact.empty()) RedactJson(leak.redact, j);
    if (!co_await AuditIngress(ctx, from_cache ? AuditOutcome::kCached : AuditOutcome::kAnswered,
                               200)) {
      co_await ReplyError(ctx, w, 503, "the audit trail is not available; answer withheld");
      co_return;
    }
    if (reid != nullptr) {
      shared.metrics.Inc("phigate_reidentified_total", "", reid->stats().tokens_reidentified);
    }
    std::vector<std::pair<std::string, std::string>> extra;
    extra.emplace_back("x-phigate-cache", std::string(from_cache ? "hit" : "miss"));
    if (!leak.incident_id.empty()) {
      extra.emplace_back("x-phigate-incident", leak.incident_id);
      extra.emplace_back("x-phigate-leak", leak.redact.empty() ? "alert" : "redacted");
    }
    co_await ReplyJson(ctx, w, DumpJson(j), std::move(extra));
  }

  net::awaitable<void> Stream(RequestContext& ctx, ResponseWriter& w, const VendorCall& call,
                              DeidSession* reid) {
    struct StreamCount {
      explicit StreamCount(Shared& s) : s_(s) {
        s_.streams.fetch_add(1);
        s_.metrics.active_streams.fetch_add(1);
      }
      ~StreamCount() {
        s_.streams.fetch_sub(1);
        s_.metrics.active_streams.fetch_sub(1);
      }
      Shared& s_;
    } count(shared);
    Result<std::unique_ptr<UpstreamStream>> up = co_await shared.client->Open(call.request);
    if (!up.ok()) {
      co_await UpstreamFailed(ctx, w, up.status());
      co_return;
    }
    UpstreamStream& us = **up;
    if (us.status() != 200) {
      co_await UpstreamStatus(ctx, w, us.status());
      co_return;
    }
    CountRequest(ctx.api, 200);
    std::vector<std::pair<std::string, std::string>> hdrs;
    hdrs.emplace_back("x-request-id", ctx.request_id);
    if (!co_await w.StartStream(200, "text/event-stream", std::move(hdrs))) {
      co_return;
    }
    auto rw = StreamRewriter::Create(ctx.api, reid);
    SseParser parser;
    // Bedrock answers with ConverseStream's binary event stream: translated
    // into the client API's events, which the rewriter then takes as it takes
    // any vendor's.
    std::unique_ptr<ConverseStream> converse;
    if (call.bedrock) {
      const json* include_usage = Member(Member(ctx.body, "stream_options"), "include_usage");
      converse = std::make_unique<ConverseStream>(
          ctx.api, ctx.requested_model, include_usage != nullptr && *include_usage == true);
    }
    std::vector<SseEvent> events;
    std::string out, scan;
    // The leak scan sees the tail of the previous text too, so a value split
    // across chunks is found in the chunk that completes it (the stream is cut there).
    std::string scan_window;
    // With a leak scanner, client bytes are held back until kLeakHoldBackBytes of
    // answer text after them were scanned clean, so a value (up to that length)
    // split across chunks is withheld whole, not cut after its first bytes.
    const size_t hold_back = shared.deps.leak != nullptr ? kLeakHoldBackBytes : 0;
    std::deque<std::pair<std::string, size_t>> held;  // client bytes, text scanned with them
    size_t held_text = 0;
    std::string leak_failure;
    std::string_view failure;
    int failure_status = 502;  // for the audit: 504 when the upstream stalled
    bool client_gone = false;
    while (true) {
      Result<std::string_view> chunk = co_await us.Next();
      if (!chunk.ok()) {
        const bool stalled = chunk.status().code() == absl::StatusCode::kDeadlineExceeded;
        failure = stalled ? "the upstream model stalled; stream ended"
                          : "the upstream connection was lost; stream ended";
        failure_status = stalled ? 504 : 502;
        shared.metrics.Inc("phigate_upstream_errors_total",
                           stalled ? "kind=\"stream_stalled\"" : "kind=\"stream_broken\"");
        break;
      }
      const bool eof = chunk->empty();
      events.clear();
      // A failure of the vendor's bytes; the events before it are still sent.
      std::string_view feed_failure;
      if (converse != nullptr) {
        // At the end, a failed Finish() is a truncated answer (below).
        Status s = eof ? converse->Finish(&events) : converse->Feed(*chunk, &events);
        if (s.code() == absl::StatusCode::kUnavailable) {
          feed_failure = "the upstream model reported an error; stream ended";
          shared.metrics.Inc("phigate_upstream_errors_total", "kind=\"stream_error_event\"");
        } else if (!s.ok() && !eof) {
          feed_failure = "the upstream sent a malformed stream; stream ended";
        }
      } else if (!eof && !parser.Feed(*chunk, &events)) {
        feed_failure = "the upstream sent a malformed stream; stream ended";
      }
      out.clear();
      scan.clear();
      for (const SseEvent& ev : events) {
        if (Status s = rw->OnEvent(ev, &out, &scan); !s.ok()) {
          feed_failure = s.code() == absl::StatusCode::kUnavailable
                             ? "the upstream model reported an error; stream ended"
                             : "the upstream sent a malformed stream event; stream ended";
          shared.metrics.Inc("phigate_upstream_errors_total", "kind=\"stream_error_event\"");
          break;
        }
      }
      if (feed_failure.empty() && eof && !rw->complete()) {
        feed_failure = "the upstream stream was truncated; stream ended";
        shared.metrics.Inc("phigate_upstream_errors_total", "kind=\"stream_truncated\"");
      }
      failure = feed_failure;
      if (!scan.empty()) {
        scan_window.append(scan);
        const LeakOutcome leak = LeakCheck(ctx, scan_window, false);
        if (!leak.deliver || !leak.redact.empty()) {
          out.clear();  // withhold this part, what is held back, and the rest
          held.clear();
          leak_failure = leak.Message("the answer was withheld by leak detection; stream ended");
          failure = leak_failure;
          break;
        }
        // Keep the last ~256 bytes, cut at a space so no word is scanned half.
        if (scan_window.size() > 256) {
          size_t cut = scan_window.find(' ', scan_window.size() - 256);
          if (cut == std::string::npos) cut = scan_window.size() - 256;
          scan_window.erase(0, cut + 1);
        }
      }
      held_text += scan.size();
      held.emplace_back(std::move(out), scan.size());
      out.clear();
      const bool last = !failure.empty() || rw->complete();
      // The chunk that ended the stream ([DONE] / message_stop) stays held
      // until the answer's audit event is committed, below.
      const bool keep_end = failure.empty() && rw->complete();
      while (!held.empty() && (last || held_text - held.front().second >= hold_back) &&
             !(keep_end && held.size() == 1)) {
        held_text -= held.front().second;
        out += held.front().first;
        held.pop_front();
      }
      if (!out.empty() && !co_await w.SendChunk(out)) {
        client_gone = true;
        break;
      }
      if (!failure.empty() || eof) break;
      if (rw->complete()) {
        // Read the end of the HTTP message so the connection can be reused.
        while (true) {
          Result<std::string_view> rest = co_await us.Next();
          if (!rest.ok() || rest->empty()) break;
        }
        break;
      }
    }
    if (client_gone) {
      co_await AuditIngress(ctx, AuditOutcome::kError, 499);
      co_return;
    }
    out.clear();
    for (const auto& h : held) out += h.first;  // empty after a leak
    // A stream that fails ends with its error event; the rewriter's held-back
    // tail (half a token, "[SSN_3f", never a value) is dropped, not sent as text.
    if (!failure.empty()) rw->AppendError(failure, &out);
    // Withheld by leak detection is recorded as a whole answer withheld is.
    const AuditOutcome outcome = failure.empty()         ? AuditOutcome::kAnswered
                                 : !leak_failure.empty() ? AuditOutcome::kBlocked
                                                         : AuditOutcome::kError;
    const bool recorded =
        co_await AuditIngress(ctx, outcome, failure.empty() ? 200 : failure_status);
    if (!recorded && failure.empty()) {
      // Not on record: the answer does not end as complete.
      out.clear();
      rw->AppendError("the audit trail is not available; the end of the answer is withheld", &out);
    }
    if (reid != nullptr) {
      shared.metrics.Inc("phigate_reidentified_total", "", reid->stats().tokens_reidentified);
    }
    if (!out.empty() && !co_await w.SendChunk(out)) co_return;
    co_await w.EndStream();
  }
};

Gateway::Gateway(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Gateway::~Gateway() {
  // The containment controls may outlive this gateway: forget its cache.
  if (impl_ && impl_->shared.deps.containment != nullptr) {
    impl_->shared.deps.containment->SetCachePurger(nullptr);
  }
  if (!impl_ || !impl_->server) return;
  // Every connection closed and every request coroutine run to its end (see
  // HttpServer::Shutdown), io threads joined.
  impl_->server->Shutdown();
  // Nothing is left on the audit threads normally (their completions kept the
  // io threads running); after a forced stop, commits still running finish.
  if (impl_->shared.audit_pool) impl_->shared.audit_pool->join();
  // Pooled upstream sockets belong to the server's io_context: drop them first.
  impl_->shared.client->Close();
  impl_->server.reset();
}

Result<std::unique_ptr<Gateway>> Gateway::Create(GatewayConfig config, GatewayDeps deps) {
  if (!deps.auth || !deps.policy || !deps.detector || !deps.audit) {
    return absl::InvalidArgumentError("the gateway needs auth, policy, detector and audit");
  }
  auto impl = std::make_unique<Impl>();
  Shared& s = impl->shared;
  s.config = std::move(config);
  s.deps = std::move(deps);
  for (const UpstreamConfig& up : s.config.upstreams) {
    PHIGATE_ASSIGN_OR_RETURN(UpstreamEndpoint ep, ParseUpstreamUrl(up.base_url));
    ep.ca_file = up.ca_file;
    s.endpoints.push_back(std::move(ep));
  }
  UpstreamOptions uo;
  uo.connect_timeout = s.config.server.upstream_connect_timeout;
  uo.response_timeout = s.config.server.upstream_timeout;
  uo.idle_timeout = s.config.server.upstream_idle_timeout;
  uo.max_body_bytes = s.config.server.max_upstream_body_bytes;
  s.client = std::make_unique<UpstreamClient>(uo);
  if (s.config.server.audit_threads > 0) {
    s.audit_pool =
        std::make_unique<net::thread_pool>(static_cast<size_t>(s.config.server.audit_threads));
  }
  if (s.config.detection_cache_entries > 0) {
    s.detection_cache = std::make_unique<DetectionCache>(s.config.detection_cache_entries);
  }
  if (s.config.cache.enabled) {
    s.cache = std::make_unique<ResponseCache>(s.config.cache.max_entries, s.config.cache.ttl);
    if (s.deps.containment != nullptr) {
      ResponseCache* cache = s.cache.get();
      s.deps.containment->SetCachePurger(
          [cache](const TenantId& t) { return cache->PurgeTenant(t.value()); });
    }
  }
  Impl* raw = impl.get();
  auto handler = [raw](HttpRequest& req, ResponseWriter& w) -> net::awaitable<void> {
    co_await raw->Handle(req, w);
  };
  auto errors = [](unsigned status, std::string_view target, std::string_view message) {
    const Api api =
        target.rfind("/v1/messages", 0) == 0 ? Api::kAnthropicMessages : Api::kOpenAIChat;
    HttpResponse res{static_cast<http::status>(status), 11};
    res.set(http::field::content_type, "application/json");
    res.body() = ErrorJson(api, static_cast<int>(status), message);
    return res;
  };
  PHIGATE_ASSIGN_OR_RETURN(impl->server,
                           HttpServer::Create(s.config.server, handler, errors, &s.metrics));
  // At shutdown, requests still waiting on an upstream are ended by closing
  // their upstream connections, so no coroutine outlives the io threads.
  impl->server->SetCancelHook([client = s.client.get()] { client->CancelActive(); });
  return std::unique_ptr<Gateway>(new Gateway(std::move(impl)));
}

Status Gateway::Start() { return impl_->server->Start(); }
uint16_t Gateway::port() const { return impl_->server->port(); }
void Gateway::HandleSignals() { impl_->server->HandleSignals(); }
void Gateway::Wait() { impl_->server->Wait(); }
void Gateway::Shutdown() { impl_->server->Shutdown(); }
std::string Gateway::MetricsText() const { return impl_->shared.metrics.Render(); }
uint64_t Gateway::CounterForTesting(std::string_view name, std::string_view labels) const {
  return impl_->shared.metrics.Get(name, labels);
}

}  // namespace phigate::gateway
