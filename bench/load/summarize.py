#!/usr/bin/env python3
"""Markdown summary of bench/load/run.sh results: phigate vs nginx vs direct (vs Portkey)."""
import sys

rows, extra = {}, {}
with open(sys.argv[1]) as f:
    header = f.readline().rstrip("\n").split("\t")
    for line in f:
        parts = line.rstrip("\n").split("\t")
        if len(parts) == 2:
            extra[parts[0]] = parts[1]
            continue
        r = dict(zip(header, parts))
        rows[(r["label"], r["conc"])] = r

print("| target | in flight | req/s | p50 µs | p99 µs | CPU µs/req | RSS MB | errors |")
print("|---|---|---|---|---|---|---|---|")
for (label, conc), r in rows.items():
    print(f"| {label} | {conc} | {float(r['rps']):.0f} | {r['p50_us']} | {r['p99_us']} | "
          f"{r['cpu_us_per_req']} | {r['rss_mb']} | {r['errors']} |")
print()
# echo-* and anthropic-*: the echo upstream, answers re-identified (run.sh's header comment).
for kind in ("json", "sse", "echo-json", "echo-sse", "anthropic-json", "anthropic-sse"):
    for conc in sorted({c for (_, c) in rows}, key=int):
        d, n, g, p = (rows.get((f"{t}-{kind}", conc)) for t in ("direct", "nginx", "phigate", "portkey"))
        if not (d and n and g):
            continue
        line = (f"- {kind} c={conc}: phigate/nginx req/s = {float(g['rps']) / float(n['rps']):.2f}, "
                f"CPU µs/req phigate {g['cpu_us_per_req']} / nginx {n['cpu_us_per_req']}; "
                f"added p50 = {int(g['p50_us']) - int(d['p50_us'])} µs, added p99 = "
                f"{int(g['p99_us']) - int(d['p99_us'])} µs (nginx adds {int(n['p50_us']) - int(d['p50_us'])} µs p50, "
                f"{int(n['p99_us']) - int(d['p99_us'])} µs p99)")
        if p:
            line += (f"; phigate/portkey req/s = {float(g['rps']) / float(p['rps']):.2f} (Portkey adds "
                     f"{int(p['p50_us']) - int(d['p50_us'])} µs p50, {p['cpu_us_per_req']} µs CPU/req)")
        print(line)
for (label, conc), r in rows.items():
    if label.endswith("-halfmax"):
        print(f"- {label} (target {extra.get('half_load_target_rps', '?')} req/s, {conc} paced connections): "
              f"{float(r['rps']):.0f} req/s, p50 {r['p50_us']} µs, p99 {r['p99_us']} µs")
s500 = rows.get(("phigate-sse", "500"))
if s500:
    print(f"- 500 concurrent streams: {float(s500['rps']):.0f} streams/s, p99 {s500['p99_us']} µs, "
          f"errors {s500['errors']}, RSS {s500['rss_mb']} MB")
if "ttfb_direct_us" in extra:
    print(f"- streaming TTFB (median of 200): direct {extra['ttfb_direct_us']} µs, phigate "
          f"{extra['ttfb_phigate_us']} µs (+{int(extra['ttfb_phigate_us']) - int(extra['ttfb_direct_us'])} µs)"
          + (f", nginx {extra['ttfb_nginx_us']} µs" if "ttfb_nginx_us" in extra else ""))
if "ttfb_direct_anthropic_us" in extra:
    d, g = int(extra["ttfb_direct_anthropic_us"]), int(extra["ttfb_phigate_anthropic_us"])
    print(f"- Anthropic streaming TTFB, re-identified (median of 200): direct {d} µs, phigate {g} µs "
          f"(+{g - d} µs)")
for k in ("rss_peak_mb_phigate_json", "rss_peak_mb_phigate_sse"):
    if k in extra:
        print(f"- {k}: {extra[k]} MB")
