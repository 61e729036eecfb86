#!/usr/bin/env python3
"""Markdown summary of bench/load/run.sh results: phigate vs nginx vs direct."""
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
for kind in ("json", "sse"):
    for conc in sorted({c for (_, c) in rows}, key=int):
        d, n, g = (rows.get((f"{t}-{kind}", conc)) for t in ("direct", "nginx", "phigate"))
        if not (d and n and g):
            continue
        print(f"- {kind} c={conc}: phigate/nginx req/s = {float(g['rps']) / float(n['rps']):.2f}; "
              f"added p50 = {int(g['p50_us']) - int(d['p50_us'])} µs, added p99 = "
              f"{int(g['p99_us']) - int(d['p99_us'])} µs (nginx adds {int(n['p50_us']) - int(d['p50_us'])} µs p50)")
if "ttfb_direct_us" in extra:
    print(f"- streaming TTFB: direct {extra['ttfb_direct_us']} µs, phigate {extra['ttfb_phigate_us']} µs "
          f"(+{int(extra['ttfb_phigate_us']) - int(extra['ttfb_direct_us'])} µs)")
