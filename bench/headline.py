"""The README's headline tables, written to bench/results/HEADLINE.md by
report.py from the figures of the same run (head: the dict its sections
fill), so that the README's table is pasted, never typed.
"""
import os

MIB = 1024 * 1024


def rec(x):
    """records/s as the README writes them"""
    if not x:
        return ""
    if x >= 1e7:
        return "%.1f M" % (x / 1e6)
    if x >= 1e5:
        return "%.2f M" % (x / 1e6)
    return "{:,.0f}".format(x)


def ms(us):
    """microseconds as the README writes milliseconds"""
    if us is None:
        return "-"
    return "%.2f" % (us / 1e3) if us < 1e4 else "%.1f" % (us / 1e3) if us < 1e5 else "%.0f" % (us / 1e3)


def growth(rss):
    """RSS growth of (second, bytes) samples as text"""
    if not rss:
        return ""
    g = rss[-1][1] - rss[0][1]
    return "%+.1f GiB" % (g / 2**30) if abs(g) >= 2**30 else "%+.2f MiB" % (g / MIB)


def main_table(head):
    """the README's table: seed, raw fan-out, idle and callgrind figures"""
    fan, seed, idle = head.get("fan", {}), head.get("seed", {}), head.get("idle", {})
    srv = ("pipecastd", "raw", "ncat", "redis")
    out = ["| scenario | pipecastd | raw ceiling | `ncat -l -k` | Redis pub/sub | Go seed loop: fixed / leaking |",
           "|---|---:|---:|---:|---:|---:|"]
    if seed.get("pipecastd", (0,))[0]:
        p, f, l = (seed.get(k, (0, [], False)) for k in ("pipecastd", "go-fixed", "go-leak"))
        out.append("| seed workload, 1 client: records/s | %s | | | | %s / %s |"
                   % (rec(p[0]), rec(f[0]), rec(l[0])))
        kill = " (killed at the RSS cap after %d s)" % l[1][-1][0] if l[2] and l[1] else ""
        out.append("| seed workload: RSS growth in %s s | %s | | | | %s / %s%s |" % (
            os.environ.get("SEED_SECS", "30"), growth(p[1]), growth(f[1]), growth(l[1]), kill))
    for n in sorted({k[1] for k in fan if k[1] >= 100}):
        out.append("| fan-out to {:,} clients, saturation: records/s | {} |".format(n, " | ".join(
            rec(fan.get((s, n, "sat", "0"), {}).get("rate", 0)) for s in srv)) + " |")
    if any(k[1] == 100 and k[3] == "1" for k in fan):
        out.append("| one of 100 clients never reads: records/s to the others | %s | |" % " | ".join(
            rec(fan.get((s, 100, "sat", "1"), {}).get("rate", 0)) for s in srv))
    ns = sorted({k[1] for k in fan if k[2] == "rate" and k[1] in (1, 100, 1000)})
    if ns:
        out.append("| p99 latency at 10k records/s, %s clients | %s | |" % (
            " / ".join("{:,}".format(n) for n in ns), " | ".join(
                " / ".join(ms(fan[(s, n, "rate", "0")]["p99"]) if (s, n, "rate", "0") in fan else "-"
                           for n in ns) + " ms" for s in srv)))
    if idle:
        n = max(k[1] for k in idle)
        out.append("| memory per idle connection ({:,} clients) | {} | | | {} | |".format(
            n, "{:,.0f} B".format(idle[("pipecastd", n)]) if ("pipecastd", n) in idle else "",
            "{:,.0f} B".format(idle[("redis", n)]) if ("redis", n) in idle else ""))
    ir = head.get("ir", {}).get("callgrind")
    if ir is not None:
        out.append("| instructions per delivered record (%s clients, callgrind) | %.2f | | | | |"
                   % (os.environ.get("CG_CLIENTS", "100"), ir))
    return out


def browser_table(head):
    """the browser table: raw, SSE and WebSocket clients beside nchan and websocketd"""
    cols = (("pipecastd", "raw"), ("pipecastd", "sse"), ("pipecastd", "ws"), ("nchan", "sse"),
            ("nchan", "ws"), ("websocketd", "ws"))
    if not any(k[0] in ("sat", "p99") for k in head if isinstance(k, tuple)):
        return []
    out = ["| scenario | pipecastd raw TCP | pipecastd SSE (`/events`) | pipecastd WebSocket (`/ws`) "
           "| nchan EventSource | nchan WebSocket | websocketd |",
           "|---|---:|---:|---:|---:|---:|---:|"]
    ns = sorted({k[3] for k in head if isinstance(k, tuple) and k[0] in ("sat", "p99") and
                 k[1:3] == ("pipecastd", "raw")})
    for n in ns:
        out.append("| fan-out to {:,} clients, saturation: records/s | {} |".format(n, " | ".join(
            rec(head.get(("sat",) + c + (n,), 0)) for c in cols)))
    for n in ns:
        out.append("| p99 latency at 10k records/s, {:,} clients | {} |".format(n, " | ".join(
            ms(head[("p99",) + c + (n,)]) + " ms" if ("p99",) + c + (n,) in head else ""
            for c in cols)))
    raw = head.get("idle", {})
    big = max([k[1] for k in raw if k[0] == "pipecastd"] or [0])
    idle = [head.get(("idle",) + c, raw.get(("pipecastd", big))) if c == ("pipecastd", "raw")
            else head.get(("idle",) + c) for c in cols]
    if any(x is not None for x in idle):
        out.append("| memory per idle subscriber | %s |" % " | ".join(
            "{:,.0f} B".format(x) if x is not None else "" for x in idle))
    ir = head.get("ir", {})
    if any(ir.get(t) is not None for t in ("callgrind", "callgrind-sse", "callgrind-ws")):
        out.append("| instructions per delivered record (%s clients, callgrind) | %s | | | |" % (
            os.environ.get("CG_CLIENTS", "100"), " | ".join(
                "%.2f" % ir[t] if ir.get(t) is not None else "" for t in
                ("callgrind", "callgrind-sse", "callgrind-ws"))))
    return out


def write(res, head, caption):
    """writes RES/HEADLINE.md: the caption and both tables"""
    main = main_table(head)
    out = ["<!-- generated by bench/report.py from the run of RESULTS.md; paste into README.md -->",
           "", caption, ""] + (main if len(main) > 2 else [])
    b = browser_table(head)
    if b:
        out += ["", "Browser fan-out (the same records; `/events`, `/ws` and their peers):", ""] + b
    with open(os.path.join(res, "HEADLINE.md"), "w") as f:
        f.write("\n".join(out) + "\n")
