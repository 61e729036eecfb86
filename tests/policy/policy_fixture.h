// A policy with one of everything the decision engine distinguishes, and fixed
// dates, for the table tests. All ids, keys and dates are made up.
#ifndef PHIGATE_TESTS_POLICY_POLICY_FIXTURE_H_
#define PHIGATE_TESTS_POLICY_POLICY_FIXTURE_H_

#include <string_view>

#include "absl/time/time.h"
#include "phigate/policy/config.h"

namespace phigate::policy::testing {

// SHA-256 of "k-doc" (a test key).
inline constexpr std::string_view kTablePolicy = R"yaml(version: 1
keys: {master_key_env: PHIGATE_MASTER_KEY}
tenants:
  - id: acme
    jurisdictions: [US-HIPAA, CA]
  - id: multi
    jurisdictions: [US-HIPAA, CA, NY, TX]
  - id: limited
    jurisdictions: [US-HIPAA]
    features: [chat]
users:
  - {id: doc, tenant: acme, roles: [clinician], api_key_sha256: ee344f245bd9fd0e3f948bcd6de5d56dfc64157241269b9c8c4f857be90da3d4}
  - {id: ana, tenant: acme, roles: [analyst]}
  - {id: adm, tenant: acme, roles: [admin]}
  - {id: mdoc, tenant: multi, roles: [clinician]}
  - {id: ldoc, tenant: limited, roles: [clinician]}
vendors:
  - name: local
    kind: self-hosted
    api_base: http://127.0.0.1:1/v1
    inside_boundary: true
    models: [m-local]
  - name: gpu
    kind: self-hosted
    api_base: https://gpu.internal.example/v1
    models: [m-gpu]
  - name: oa
    kind: openai
    api_base: https://oa.example/v1
    region: us
    endpoints: [chat/completions, embeddings]
    models: [m1, m2, m3]
    baas:
      - {id: OLD, signed: 2025-01-01, expires: 2025-12-31, endpoints: [chat/completions], models: [m1]}
      - {id: NEW, signed: 2026-01-01, expires: 2026-06-30, endpoints: [chat/completions], models: [m1, m2], zero_data_retention: true}
  - name: future
    kind: anthropic
    api_base: https://fut.example/v1
    region: us
    models: [c1]
    baa: {id: FUT, signed: 2027-01-01, expires: 2027-12-31, endpoints: [messages], models: [c1]}
  - name: eu
    kind: openai
    api_base: https://eu.example/v1
    region: eu
    models: [e1]
    baa: {id: EU, signed: 2025-01-01, expires: 2030-01-01, endpoints: [chat/completions], models: [e1], zero_data_retention: true}
  - name: nozdr
    kind: openai
    api_base: https://nz.example/v1
    region: us
    models: [z1]
    baa: {id: NZ, signed: 2025-01-01, expires: 2030-01-01, endpoints: [chat/completions], models: [z1]}
  - name: none
    kind: openai
    api_base: https://none.example/v1
    region: us
    models: [n1]
features:
  - name: scribe
    purpose: treatment
    roles: [clinician, analyst]
    reidentify_answers: true
    on_missing_baa: tokenize
    phi: {NAME: allow, DATE: surrogate, AGE: allow, MRN: tokenize, SSN: redact}
    routes:
      - {vendor: local, models: ["*"]}
      - {vendor: gpu, models: ["*"]}
      - {vendor: oa, models: [m1, m2, m3]}
      - {vendor: future, models: ["*"]}
      - {vendor: eu, models: ["*"]}
      - {vendor: nozdr, models: ["*"]}
      - {vendor: none, models: ["*"]}
  - name: strict
    purpose: treatment
    on_missing_baa: deny
    phi: {NAME: allow}
    routes:
      - {vendor: oa, models: ["*"]}
      - {vendor: none, models: ["*"]}
  - name: blocky
    purpose: operations
    on_missing_baa: block
    phi: {NAME: allow, DATE: tokenize}
    routes:
      - {vendor: none, models: ["*"]}
  - name: chat
    purpose: operations
    unlisted: block
    routes:
      - {vendor: none, models: ["*"]}
      - {vendor: oa, models: ["*"]}
jurisdictions:
  - id: NY
    floors: {DATE: tokenize}
    require_zero_data_retention: true
  - id: CA
    floors: {SSN: block}
)yaml";

// Noon UTC of a day, or an exact instant.
inline absl::Time Day(std::string_view ymd) {
  return absl::FromUnixSeconds(*ParseDay(ymd) * 86400 + 12 * 3600);
}
inline absl::Time At(std::string_view ymd, int h, int m, int s) {
  return absl::FromUnixSeconds(*ParseDay(ymd) * 86400 + h * 3600 + m * 60 + s);
}

}  // namespace phigate::policy::testing

#endif  // PHIGATE_TESTS_POLICY_POLICY_FIXTURE_H_
