#!/usr/bin/env python3
"""Fixtures for bench/load/run.sh (phigate's own load comparison). Loopback only.

Writes into $OUT_DIR (default /tmp/phigate-load):
  request.json / request_stream.json  ~4 KB chat request, ~10 synthetic identifiers
  response.json / response.sse        the mock upstream's fixed answers
  request_anthropic.json / request_anthropic_stream.json   the same request, Anthropic messages API
  nginx-mock.conf                     mock upstream: :$MOCK_PORT JSON, :$MOCK_SSE_PORT SSE, and (with
                                      nginx's JavaScript module) :$ECHO_PORT, the echo upstream of
                                      mock_echo.js: answers carry the request's tokens back
  nginx-proxy.conf                    plain reverse proxy (the baseline): :$PROXY_PORT, :$PROXY_SSE_PORT,
                                      :$PROXY_ECHO_PORT (to the echo upstream)
  phigate.yaml                        policy + server section for `phigate serve`
  keys.env                            the synthetic API key and master key used by the run
All identifiers are invented (SSN in the never-issued 9xx area, 555-01xx phones).
"""
import hashlib
import json
import os
import secrets

OUT = os.environ.get("OUT_DIR", "/tmp/phigate-load")
MOCK, MOCK_SSE = int(os.environ.get("MOCK_PORT", 18101)), int(os.environ.get("MOCK_SSE_PORT", 18102))
PROXY, PROXY_SSE = int(os.environ.get("PROXY_PORT", 18180)), int(os.environ.get("PROXY_SSE_PORT", 18181))
ECHO, PROXY_ECHO = int(os.environ.get("ECHO_PORT", 18103)), int(os.environ.get("PROXY_ECHO_PORT", 18182))
# nginx's JavaScript module (Debian: libnginx-mod-http-js) runs the echo upstream; without it
# the echo rows are left out.
NJS = os.environ.get("NJS_MODULE", "/usr/lib/nginx/modules/ngx_http_js_module.so")
HAVE_NJS = os.path.exists(NJS)
HERE = os.path.dirname(os.path.abspath(__file__))
GW_PORT = int(os.environ.get("GW_PORT", 18190))
GW_SSE_PORT = int(os.environ.get("GW_SSE_PORT", 18191))
IO_THREADS = int(os.environ.get("IO_THREADS", 1))
# Optional audit tree-head signing interval (docs/audit.md); unset = the gateway default.
SIGN_MS = os.environ.get("AUDIT_SIGN_INTERVAL_MS", "")
os.makedirs(OUT, exist_ok=True)

NOTE = (
    "DISCHARGE SUMMARY\n"
    "Patient: Orrin Tessaly-Brookmere   DOB: 03/14/1962   MRN: 00482913\n"
    "SSN: 912-45-6789   Phone: (555) 010-0134\n"
    "Email: o.tessaly62@example.com\n"
    "Admitted: 01/03/2024   Discharged: 01/09/2024   Attending: Dr. Velma Ostrander\n"
    "HISTORY OF PRESENT ILLNESS: 61-year-old male with a history of type 2 diabetes mellitus, "
    "hypertension, hyperlipidemia and chronic kidney disease stage 3a presented to the emergency "
    "department with three days of progressive dyspnea on exertion, orthopnea and bilateral "
    "lower-extremity edema. He reports dietary indiscretion over the holidays and missed two days "
    "of furosemide. His wife reports a weight gain of 4 kg.\n\n"
    "HOSPITAL COURSE: Chest radiograph showed bilateral pleural effusions and vascular congestion. "
    "BNP 1,840 pg/mL. Troponin I peaked at 0.06 ng/mL without dynamic ECG changes. Echocardiogram "
    "showed LVEF 35%, moderate mitral regurgitation. He was diuresed with IV furosemide 40 mg twice "
    "daily with net negative 6.2 L. Creatinine rose from 1.4 to 1.7 mg/dL and returned to 1.5 mg/dL "
    "at discharge. Potassium was repleted. Metoprolol succinate was increased to 50 mg daily; "
    "sacubitril/valsartan 24/26 mg twice daily was started on hospital day 4. Dapagliflozin 10 mg "
    "daily was added. Cardiology recommended outpatient ischemic evaluation.\n\n"
    "DISCHARGE MEDICATIONS: furosemide 40 mg PO daily; metoprolol succinate 50 mg PO daily; "
    "sacubitril/valsartan 24/26 mg PO BID; dapagliflozin 10 mg PO daily; atorvastatin 40 mg PO "
    "nightly; insulin glargine 18 units SC nightly; aspirin 81 mg PO daily.\n\n"
    "FOLLOW-UP: Heart failure clinic on 01/16/2024; BMP in 1 week; daily weights, call if gain "
    "> 1 kg/day. Fax the summary to the PCP, Dr. Ellery Pawlowski, at (555) 010-0100.\n\n"
    "ASSESSMENT/PLAN: Acute on chronic HFrEF exacerbation, precipitated by dietary and medication "
    "non-adherence, resolved with diuresis. Continue GDMT titration as tolerated. The patient and "
    "his wife understood the plan and agreed with discharge home with home health nursing. "
    "Dietary sodium restriction below 2 g per day and fluid restriction of 1.5 L per day were "
    "reviewed with teach-back; the scale at home was checked and a weight log was provided.\n\n"
    # Identifier-free clinical prose that brings the request to ~4 KB (issue #6's size).
    "PHYSICAL EXAMINATION ON ADMISSION: Alert and oriented, speaking in short sentences. Jugular "
    "venous pressure elevated to the angle of the jaw with a positive hepatojugular reflux. "
    "Bibasilar crackles to the mid lung fields, no wheeze. Regular rhythm, soft holosystolic "
    "murmur at the apex radiating to the axilla, no rub or gallop appreciated. Abdomen soft, "
    "mildly distended, liver edge palpable two fingerbreadths below the costal margin. Pitting "
    "edema to the knees bilaterally, warm extremities, capillary refill brisk.\n\n"
    "PHYSICAL EXAMINATION AT DISCHARGE: Comfortable on room air, jugular venous pressure not "
    "elevated, lungs clear, trace ankle edema only, ambulating the hallway without dyspnea.\n\n"
    "PERTINENT RESULTS: Sodium and potassium within range after repletion; magnesium repleted "
    "once. Hemoglobin stable, platelets normal. Hemoglobin A1c mildly above goal. Lipid panel "
    "with LDL above target on the current statin dose. Urinalysis without protein. Thyroid "
    "function normal. Iron studies show low ferritin with low transferrin saturation; one dose "
    "of intravenous iron was given before discharge.\n\n"
    "PATIENT EDUCATION: Heart failure zones reviewed, low-sodium diet handout given, signs of "
    "worsening congestion and of dehydration discussed, medication list reconciled with the "
    "patient and his wife, and the importance of not missing diuretic doses emphasized."
)
SYSTEM = ("You are a clinical documentation assistant. Summarize the note for a referring "
          "physician. Keep medication names, doses and lab values exactly as written.")


def request(stream):
    return {"model": "local-llama", "stream": stream, "temperature": 0.2, "max_tokens": 400,
            "messages": [{"role": "system", "content": SYSTEM},
                         {"role": "user", "content": "Summarize this discharge note:\n\n" + NOTE}]}


def request_anthropic(stream):
    return {"model": "claude-sonnet-4-5", "stream": stream, "temperature": 0.2, "max_tokens": 400,
            "system": SYSTEM,
            "messages": [{"role": "user", "content": "Summarize this discharge note:\n\n" + NOTE}]}


RESP = ("- 61M with T2DM, HTN, HLD, CKD 3a admitted for acute on chronic HFrEF (LVEF 35%).\n"
        "- Diuresed with IV furosemide, net -6.2 L.\n- Follow-up: HF clinic, BMP in 1 week.")


def sse():
    base = {"id": "chatcmpl-mock", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    words = RESP.split(" ")
    out = ["data: " + json.dumps(dict(base, choices=[{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}])) + "\n\n"]
    for w in words:
        out.append("data: " + json.dumps(dict(base, choices=[{"index": 0, "delta": {"content": w + " "}, "finish_reason": None}])) + "\n\n")
    out.append("data: " + json.dumps(dict(base, choices=[{"index": 0, "delta": {}, "finish_reason": "stop"}])) + "\n\n")
    out.append("data: [DONE]\n\n")
    return "".join(out)


def vendor(name, port, endpoint, model):
    return f"""  - name: {name}
    kind: self-hosted
    api_base: http://127.0.0.1:{port}/v1
    inside_boundary: true
    region: us
    endpoints: [{endpoint}]
    models: [{model}]"""


def feature(name, vendors):
    routes = "".join(f"\n      - vendor: {v}\n        models: [\"*\"]" for v in vendors)
    return f"""  - name: {name}
    purpose: treatment
    roles: [clinician]
    reidentify_answers: true
    on_missing_baa: tokenize
    phi: {{NAME: tokenize, DATE: tokenize, MRN: tokenize, SSN: tokenize, PHONE: tokenize, EMAIL: tokenize, AGE: allow}}
    routes:{routes}"""


def main():
    files = {
        "request.json": json.dumps(request(False)),
        "request_stream.json": json.dumps(request(True)),
        "request_anthropic.json": json.dumps(request_anthropic(False)),
        "request_anthropic_stream.json": json.dumps(request_anthropic(True)),
        "response.json": json.dumps({"id": "chatcmpl-mock", "object": "chat.completion", "created": 1,
                                     "model": "m", "choices": [{"index": 0, "message": {"role": "assistant", "content": RESP}, "finish_reason": "stop"}],
                                     "usage": {"prompt_tokens": 900, "completion_tokens": 60, "total_tokens": 960}}),
        "response.sse": sse(),
    }
    for name, data in files.items():
        with open(os.path.join(OUT, name), "w") as f:
            f.write(data)
    common = f"""worker_processes 1;
pid {OUT}/%s.pid;
error_log {OUT}/%s-error.log warn;
events {{ worker_connections 4096; multi_accept on; }}
"""
    http_common = """  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  client_body_buffer_size 64k;
  client_max_body_size 8m;
"""
    echo_mock = f"""  js_import echo from {HERE}/mock_echo.js;
  server {{
    listen 127.0.0.1:{ECHO} backlog=4096;
    location /v1/chat/completions {{ js_content echo.chat; }}
    location /v1/messages {{ js_content echo.messages; }}
  }}
""" if HAVE_NJS else ""
    mock = (f"load_module {NJS};\n" if HAVE_NJS else "") + (common % ("mock", "mock")) + f"""http {{
{http_common}
  server {{
    listen 127.0.0.1:{MOCK} backlog=4096;
    root {OUT};
    location / {{ default_type application/json; try_files /response.json =500; error_page 405 =200 $uri; }}
  }}
  server {{
    listen 127.0.0.1:{MOCK_SSE} backlog=4096;
    root {OUT};
    location / {{ default_type text/event-stream; try_files /response.sse =500; error_page 405 =200 $uri; }}
  }}
{echo_mock}}}
"""
    proxy = (common % ("proxy", "proxy")) + f"""http {{
{http_common}
  upstream mock {{ server 127.0.0.1:{MOCK}; keepalive 256; }}
  upstream mocksse {{ server 127.0.0.1:{MOCK_SSE}; keepalive 256; }}
  server {{
    listen 127.0.0.1:{PROXY} backlog=4096;
    location / {{ proxy_pass http://mock; proxy_http_version 1.1; proxy_set_header Connection ""; }}
  }}
  server {{
    listen 127.0.0.1:{PROXY_SSE} backlog=4096;
    location / {{ proxy_pass http://mocksse; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffering off; }}
  }}
  upstream echo {{ server 127.0.0.1:{ECHO}; keepalive 256; }}
  server {{
    listen 127.0.0.1:{PROXY_ECHO} backlog=4096;
    location / {{ proxy_pass http://echo; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffering off; }}
  }}
}}
"""
    with open(os.path.join(OUT, "nginx-mock.conf"), "w") as f:
        f.write(mock)
    with open(os.path.join(OUT, "nginx-proxy.conf"), "w") as f:
        f.write(proxy)
    key = "pg_load_" + secrets.token_hex(8)
    master = secrets.token_hex(32)
    for port, mport, name in ((GW_PORT, MOCK, "phigate.yaml"), (GW_SSE_PORT, MOCK_SSE, "phigate-sse.yaml")):
        with open(os.path.join(OUT, name), "w") as f:
            f.write(f"""version: 1
tenants:
  - id: bench
    name: Load test (synthetic)
    jurisdictions: [US-HIPAA]
users:
  - id: dr-load
    tenant: bench
    roles: [clinician]
    api_key_sha256: {hashlib.sha256(key.encode()).hexdigest()}
vendors:
{vendor("local", mport, "chat/completions", "local-llama")}
{vendor("echo", ECHO, "chat/completions", "local-llama")}
{vendor("echo-anthropic", ECHO, "messages", "claude-sonnet-4-5")}
features:
{feature("scribe", ["local"])}
  # The same policy in front of the echo upstream (mock_echo.js), whose answers carry the
  # request's tokens: re-identification puts ~12 values back in every answer.
{feature("scribe-echo", ["echo", "echo-anthropic"])}
gateway:
  upstreams:
    - vendor: echo-anthropic
      kind: anthropic
      base_url: http://127.0.0.1:{ECHO}/v1
server:
  listen: 127.0.0.1:{port}
  io_threads: {IO_THREADS}
  max_concurrent_streams: 4096
""")
            if SIGN_MS:
                f.write(f"audit:\n  sign_interval_ms: {int(SIGN_MS)}\n")
    with open(os.path.join(OUT, "keys.env"), "w") as f:
        f.write(f"API_KEY={key}\nPHIGATE_MASTER_KEY={master}\nHAVE_ECHO={int(HAVE_NJS)}\n")
    print(f"request {len(files['request.json'])} B, sse {len(files['response.sse'])} B")


if __name__ == "__main__":
    main()
