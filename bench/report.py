#!/usr/bin/env python3
"""Writes bench/results/RESULTS.md and the PNG plots from bench/results/raw/.

Run by bench/run.sh at the end of `make bench`; reads its settings from the
environment (QUICK, SEED_SECS, MEAS, RATE, ...). Python 3 standard library and
gnuplot only.
"""
import os
import platform
import re
import subprocess

import headline
import report_browser

HERE = os.path.dirname(os.path.abspath(__file__))
RES = os.environ.get("BENCH_OUT") or os.path.join(HERE, "results")
RAW = os.path.join(RES, "raw")
ENV = os.environ
QUICK = ENV.get("QUICK", "0") == "1"
SERVERS = ["pipecastd", "raw", "ncat", "redis"]
LABEL = {"pipecastd": "pipecastd", "raw": "raw ceiling", "ncat": "ncat -l -k",
         "redis": "Redis pub/sub"}
MIB = 1024 * 1024
HEAD = {}   # the figures of the README's headline table (bench/headline.py)


def read(name, default=""):
    try:
        with open(os.path.join(RAW, name)) as f:
            return f.read()
    except OSError:
        return default


def kv(text):
    return dict(re.findall(r"(\w+)=(\S+)", text))


def num(x, default=0.0):
    try:
        return float(x)
    except (TypeError, ValueError):
        return default


def mrec(x):
    """records/s as M records/s text"""
    return "%.2f M" % (x / 1e6) if x >= 1e5 else "%.0f" % x


def ratio(a, b):
    return "%.2fx" % (a / b) if b > 0 else "n/a (peer delivered 0)"


def cmd(args):
    try:
        r = subprocess.run(args, capture_output=True, text=True, timeout=10)
        return r.stdout or r.stderr
    except (OSError, subprocess.SubprocessError):
        return ""


def median(v):
    v = sorted(v)
    if not v:
        return float("nan")
    return v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2


def paired_cost(reps, key0, key1):
    """costs in % of each repetition's stalled run against the run just before it"""
    a, b = reps.get(key0, []), reps.get(key1, [])
    return [100 * (x["rate"] - y["rate"]) / x["rate"] for x, y in zip(a, b) if x["rate"]]


def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) * 1024
    deb = read_file("/etc/debian_version").strip()
    return [
        ("date", ENV.get("START_EPOCH", "")),
        ("nproc", str(os.cpu_count())),
        ("CPU", cpu),
        ("kernel", platform.release()),
        ("memory", "%.1f GiB" % (mem / 2**30)),
        ("Debian", deb),
        ("Go", cmd(["/usr/lib/go-1.19/bin/go", "version"]).strip()),
        ("Redis", cmd(["redis-server", "--version"]).split(" sha=")[0].strip()),
        ("ncat", cmd(["ncat", "--version"]).strip().splitlines()[0] if cmd(["ncat", "--version"]) else ""),
        ("valgrind", cmd(["valgrind", "--version"]).strip()),
        ("nginx, nchan", "%s, libnginx-mod-nchan %s" % (
            cmd(["nginx", "-v"]).strip().replace("nginx version: ", ""),
            cmd(["dpkg-query", "-W", "-f=${Version}", "libnginx-mod-nchan"]).strip())),
        ("websocketd", cmd(["websocketd", "--version"]).strip()),
    ]


def read_file(p):
    try:
        with open(p) as f:
            return f.read()
    except OSError:
        return ""


def gnuplot(script):
    try:
        subprocess.run(["gnuplot"], input=script, text=True, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError):
        pass


# ---- 1. seed ----
def seed(out, targets):
    secs = ENV.get("SEED_SECS", "30")
    rows = {}
    reps = {}
    for name in ["pipecastd", "go-fixed"]:
        reps[name] = [(num(p[0]), p[1] if len(p) > 1 else "?") for p in
                      (l.split() for l in read("seed-%s.reps" % name).splitlines()) if p]
    for name in ["pipecastd", "go-fixed", "go-leak"]:
        sub = kv(read("seed-%s.sub" % name))
        rss = []
        killed = False
        for line in read("seed-%s.rss" % name).splitlines():
            if line.startswith("#"):
                killed = True
                continue
            p = line.split()
            if len(p) == 2:
                rss.append((int(p[0]), int(p[1])))
        rate = num(sub.get("rate"))
        if reps.get(name):
            rate = median([r for r, _ in reps[name]])
        rows[name] = (rate, rss, killed)
    HEAD["seed"] = rows
    out.append("## 1. The seed's workload (one client, %s s)\n" % secs)
    out.append("A producer writes 6-byte records (`%%05d\\n`) into a pipe as fast as it can; "
               "the program forwards each to one TCP client and enforces a 3-minute idle "
               "timeout. The Go programs (`bench/seed/`) use a buffered writer flushed "
               "whenever the channel is empty, so they are not limited by one syscall per "
               "record. RSS is sampled every second from `/proc/PID/status`; the leaking "
               "loop is killed when its RSS passes %.0f GiB, to protect the machine.\n"
               % (int(ENV.get("LEAK_CAP", 4 << 30)) / 2**30))
    out.append("| program | records/s delivered | RSS at start | RSS at end | RSS growth | note |")
    out.append("|---|---:|---:|---:|---:|---|")
    for name, (rate, rss, killed) in rows.items():
        if rss:
            a, b = rss[0][1], rss[-1][1]
            note = ("killed at the RSS cap after %d s" % rss[-1][0]) if killed else ""
            out.append("| %s | %s | %.1f MiB | %.1f MiB | %+.2f MiB | %s |"
                       % (name, mrec(rate), a / MIB, b / MIB, (b - a) / MIB, note))
        else:
            out.append("| %s | %s | - | - | - | no RSS samples |" % (name, mrec(rate)))
    sk = read("seed-pipecastd.skipped").split()
    if len(sk) >= 2:
        out.append("")
        out.append("pipecastd runs with `overflow = skip`: the producer is never slowed, so "
                   "when the one client cannot keep up it skips forward; it skipped %s bytes "
                   "(%.1f M records) and was dropped %s times. The Go loops instead slow the "
                   "producer down (their channel fills and the feeding goroutine stops "
                   "reading the pipe)." % (sk[0], num(sk[0]) / 6e6, sk[1]))
    pc, fx = rows["pipecastd"], rows["go-fixed"]
    growth = (pc[1][-1][1] - pc[1][0][1]) if pc[1] else float("nan")
    pr, fr = reps.get("pipecastd", []), reps.get("go-fixed", [])
    if len(pr) > 1:
        out.append("")
        out.append("pipecastd and the fixed Go loop ran back to back, %d times; the rates "
                   "above are the medians. Each repetition (pipecastd / go-fixed, the ratio, "
                   "the 1-minute load average after the pair): %s." % (len(pr), "; ".join(
                       "%s / %s = %s (load %s)" % (mrec(a[0]), mrec(b[0]), ratio(a[0], b[0]), b[1])
                       for a, b in zip(pr, fr))))
    out.append("")
    out.append("pipecastd delivers **%s** the records/s of the fixed Go loop and **%s** those "
               "of the leaking loop." % (ratio(pc[0], fx[0]), ratio(pc[0], rows["go-leak"][0])))
    out.append("")
    out.append("![RSS against time](seed_rss.png)\n")
    targets.append(("seed: pipecastd RSS growth over the run", "< 1 MiB",
                    "%.3f MiB" % (growth / MIB), growth < MIB))
    spread = ""
    if len(pr) > 1:
        spread = " (runs: %s)" % ", ".join(ratio(a[0], b[0]) for a, b in zip(pr, fr))
    targets.append(("seed: records/s vs the fixed Go loop (issue 16)", ">= 30x", ratio(pc[0], fx[0]) + spread,
                    fx[0] > 0 and pc[0] >= 30 * fx[0]))
    plots = []
    for name, (_, rss, _) in rows.items():
        path = os.path.join(RAW, "seed-%s.rss" % name)
        if rss:
            plots.append("'%s' using 1:($2/1048576) with linespoints title '%s'" % (path, name))
    if plots:
        gnuplot("set terminal png size 900,500\nset output '%s'\nset xlabel 'seconds'\n"
                "set ylabel 'RSS (MiB)'\nset logscale y\nset key left top\nset grid\n"
                "set title 'RSS over time, seed workload'\nplot %s\n"
                % (os.path.join(RES, "seed_rss.png"), ", ".join(plots)))


# ---- 2b. the pipe relay ceiling ----
def relay_section(out, targets, rows, reps, ns):
    if not any(k[0] == "relay" for k in rows):
        return
    out.append("### The pipe relay ceiling\n")
    out.append("`bench/pipe_relay.c` is what any pipe-to-socket relay must pay: it reads the "
               "same FIFO (enlarged to `pipe-max-size`, as pipecastd does) in 256 KiB reads "
               "and writes each read, blocking, to its N clients in turn; no framing, no "
               "ring, no timers. Within each repetition it runs right before pipecastd's "
               "saturation run (same producer, same receivers). It blocks on its slowest "
               "client, so from N = 10 pipecastd, which never waits for a client, is "
               "expected to beat it. Figures: medians of the repetitions, ranges, and the "
               "1-minute load average at the end of each pair of runs.\n")
    out.append("| N | pipe relay | pipecastd | pipecastd / relay (median) | each repetition | relay range | pipecastd range | load at the end of each pair |")
    out.append("|---:|---:|---:|---:|---|---|---|---|")
    for n in ns:
        a = reps.get(("relay", n, "sat", "0"), [])
        b = reps.get(("pipecastd", n, "sat", "0"), [])
        if not a or not b:
            continue
        ra, rb = median([x["rate"] for x in a]), median([x["rate"] for x in b])
        pairs = ["%.0f %%" % (100 * y["rate"] / x["rate"]) if x["rate"] else "n/a"
                 for x, y in zip(a, b)]
        out.append("| %d | %s | %s | %.0f %% | %s | %s - %s | %s - %s | %s |" % (
            n, mrec(ra), mrec(rb), 100 * rb / ra if ra else float("nan"), ", ".join(pairs),
            mrec(min(x["rate"] for x in a)), mrec(max(x["rate"] for x in a)),
            mrec(min(x["rate"] for x in b)), mrec(max(x["rate"] for x in b)),
            ", ".join("%.2f" % y.get("load", 0) for y in b)))
        want = 0.9 if n == 1 else 1.0
        targets.append(("pipe relay N=%d: pipecastd's share, producer as fast as it can (issue 16)" % n,
                        ">= 90 %" if n == 1 else "> 100 % (the relay waits for its slowest client)",
                        "%.0f %% (runs: %s)" % (100 * rb / ra if ra else float("nan"), ", ".join(pairs)),
                        ra > 0 and rb >= want * ra if n == 1 else ra > 0 and rb > ra))
    out.append("")
    cpu_rows = []
    for n in ns:
        for srv in ("relay", "pipecastd"):
            for i, x in enumerate(reps.get((srv, n, "sat", "0"), [])):
                if x.get("cpu"):
                    c = x["cpu"]
                    cpu_rows.append("| %d | %s | %d | %s | %.2f | %.2f | %.2f | %.2f | %s |" % (
                        n, srv, i + 1, mrec(x["rate"]), c[0], c[1], c[2], sum(c),
                        x["skipped"]))
    if cpu_rows:
        out.append("Where the CPU went in those runs, in cores (CPU seconds, user and "
                   "system, per second): the server and the producer over 90 % of the "
                   "receivers' window, the receivers over their whole run. The machine has "
                   "2 cores, shared with whatever else ran (load column above). The relay "
                   "slows its producer to its client's pace; pipecastd never does, so its "
                   "producer keeps writing and pipecastd keeps reading what a client that "
                   "cannot keep up then skips (last column, bytes):\n")
        out.append("| N | server | run | delivered records/s | server cores | producer cores | receivers cores | total | skipped bytes |")
        out.append("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
        out.extend(cpu_rows)
        out.append("")


# ---- 2. fan-out ----
def fanout(out, targets):
    rows, reps, loads = {}, {}, []
    for line in read("fanout.tsv").splitlines():
        p = line.split("\t")
        if len(p) < 11:
            continue
        srv, n, mode, stall = p[0], int(p[1]), p[2], p[3]
        reps.setdefault((srv, n, mode, stall), []).append(
            dict(rate=num(p[4]), p50=num(p[5]), p99=num(p[6]), max=num(p[7]),
                 closed=num(p[8]), bad=num(p[9]), skipped=p[10],
                 load=num(p[11]) if len(p) > 11 else 0,
                 cpu=tuple(num(x) for x in p[12:15]) if len(p) > 14 else None))
        if len(p) > 11:
            loads.append(num(p[11]))
    # repeated runs: the median of each figure, and the spread of rate and p99
    for key, lst in reps.items():
        row = {}
        for f in ("rate", "p50", "p99", "max", "closed", "bad"):
            v = sorted(x[f] for x in lst)
            row[f] = v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2
        row["skipped"] = sorted(lst, key=lambda x: x["rate"])[len(lst) // 2]["skipped"]
        row["n"] = len(lst)
        row["rate_range"] = (min(x["rate"] for x in lst), max(x["rate"] for x in lst))
        row["p99_range"] = (min(x["p99"] for x in lst), max(x["p99"] for x in lst))
        rows[key] = row
    HEAD["fan"] = rows
    ns = sorted({k[1] for k in rows})
    if not ns:
        return
    meas = ENV.get("MEAS", "5")
    rate = int(ENV.get("RATE", "10000"))
    out.append("## 2. Fan-out: throughput and latency (64-byte records)\n")
    out.append("Each record carries its send time (CLOCK_MONOTONIC ns, 19 digits after `@`). "
               "Receivers (`bench/loadgen.c sub`, epoll, 1 process up to 10 clients, 2 "
               "processes from 100) count bytes and parse timestamps at the known frame "
               "offsets into a log-linear histogram (3 %% buckets). Each run measures %s s "
               "from the first byte. pipecastd, the raw ceiling and ncat read the same "
               "producer from a pipe; Redis gets the same records as pipelined PUBLISH "
               "commands (8192 in flight) from the same program. **All of it shares 2 "
               "cores**: the producer, the server and the receivers compete for CPU, so "
               "the figures are those of the whole pipeline on this machine, not of the "
               "server alone.\n" % meas)
    if loads:
        out.append("1-minute load average at the end of the fan-out runs: %.2f to %.2f "
                   "(2 cores; above ~2 means other work competed for the CPU).\n"
                   % (min(loads), max(loads)))
    out.append("Where a run was repeated, each figure is the median of the repetitions "
               "(the `runs` column); the ranges show their spread.\n")
    out.append("- *fixed rate*: %d records/s offered, every record's latency recorded." % rate)
    out.append("- *saturation*: the producer writes as fast as it can; one latency sample "
               "per `read()` (the first record starting in it). pipecastd runs with "
               "`overflow = skip` and a 64 MiB ring here, so a receiver that falls behind "
               "skips forward instead of being dropped (skipped bytes are listed); Redis "
               "keeps its default output-buffer limits; ncat and the raw ceiling block on "
               "the slowest client.")
    out.append("- *stalled*: the saturation run plus one extra client that connects (and "
               "subscribes) but never reads.\n")
    out.append("### Delivered records/s at saturation\n")
    out.append("| N | " + " | ".join(LABEL[s] for s in SERVERS) +
               " | pipecastd / raw | pipecastd / ncat | pipecastd / Redis | pipecastd range (runs) | raw range (runs) |")
    out.append("|---:|" + "---:|" * (len(SERVERS) + 5))
    for n in ns:
        r = {s: rows.get((s, n, "sat", "0"), {}).get("rate", 0) for s in SERVERS}
        rg = []
        for sv in ("pipecastd", "raw"):
            x = rows.get((sv, n, "sat", "0"))
            rg.append("%s - %s (%d)" % (mrec(x["rate_range"][0]), mrec(x["rate_range"][1]), x["n"])
                      if x else "-")
        out.append("| %d | %s | %s | %s | %s | %s |" % (
            n, " | ".join(mrec(r[s]) for s in SERVERS), ratio(r["pipecastd"], r["raw"]),
            ratio(r["pipecastd"], r["ncat"]), ratio(r["pipecastd"], r["redis"]), " | ".join(rg)))
        m = rows.get(("pipecastd", n, "match", "0"), {}).get("rate", 0)
        if n >= 100:
            targets.append(("fan-out N=%d: share of the raw ceiling, producer as fast as it can" % n,
                            ">= 90 %",
                            "%.0f %%" % (100 * r["pipecastd"] / r["raw"]) if r["raw"] else "n/a",
                            r["raw"] > 0 and r["pipecastd"] >= 0.9 * r["raw"]))
            if m:
                targets.append(("fan-out N=%d: share of the raw ceiling, same offered rate" % n,
                                ">= 90 %", "%.0f %%" % (100 * m / r["raw"]) if r["raw"] else "n/a",
                                r["raw"] > 0 and m >= 0.9 * r["raw"]))
            targets.append(("fan-out N=%d: vs Redis pub/sub" % n, ">= 10x",
                            ratio(r["pipecastd"], r["redis"]),
                            r["redis"] > 0 and r["pipecastd"] >= 10 * r["redis"]))
    out.append("")
    relay_section(out, targets, rows, reps, ns)
    if any(k[2] == "match" for k in rows):
        out.append("The raw ceiling and ncat block on their clients, so their producer is "
                   "slowed to what the clients take; pipecastd never slows its producer, "
                   "which then writes (and pipecastd reads and frames) far more than the "
                   "clients can take, on the same 2 cores. So pipecastd is also measured "
                   "with its producer offered exactly the source rate that the raw ceiling "
                   "sustained in the same repetition (delivered / N):\n")
        out.append("| N | offered (records/s into the pipe) | pipecastd delivered | raw ceiling delivered | pipecastd / raw | with a stalled client | cost of the stalled client: median (each repetition, %) |")
        out.append("|---:|---:|---:|---:|---:|---:|---:|")
        for n in ns:
            a = rows.get(("pipecastd", n, "match", "0"))
            b = rows.get(("pipecastd", n, "match", "1"))
            rw = rows.get(("raw", n, "sat", "0"), {}).get("rate", 0)
            if not a:
                continue
            costs = paired_cost(reps, ("pipecastd", n, "match", "0"), ("pipecastd", n, "match", "1"))
            cost = median(costs)
            out.append("| %d | %s | %s | %s | %s | %s | %.1f %% (%s) |" % (
                n, mrec(rw / n), mrec(a["rate"]), mrec(rw), ratio(a["rate"], rw),
                mrec(b["rate"]) if b else "-", cost, ", ".join("%.0f" % c for c in costs)))
            targets.append(("stalled client N=%d, same offered rate: cost to the others" % n,
                            "< 5 %", "%.1f %% (runs: %s)" % (cost, ", ".join("%.0f" % c for c in costs)),
                            cost < 5))
        out.append("")
    out.append("![saturation throughput](fanout_throughput.png)\n")
    out.append("### Latency at a fixed offered rate (%d records/s), microseconds\n" % rate)
    out.append("| N | " + " | ".join("%s p50 / p99 / max" % LABEL[s] for s in SERVERS) +
               " | pipecastd p99 / raw p99 | p99 range pipecastd; raw (runs) |")
    out.append("|---:|" + "---|" * len(SERVERS) + "---:|---|")
    for n in ns:
        cells = []
        for s in SERVERS:
            x = rows.get((s, n, "rate", "0"))
            cells.append("%.0f / %.0f / %.0f" % (x["p50"], x["p99"], x["max"]) if x else "-")
        pc = rows.get(("pipecastd", n, "rate", "0"), {})
        rw = rows.get(("raw", n, "rate", "0"), {})
        rr = pc.get("p99", 0) / rw["p99"] if rw.get("p99") else float("nan")
        rg = "; ".join("%.0f - %.0f (%d)" % (x["p99_range"][0], x["p99_range"][1], x["n"])
                       for x in (pc, rw) if x)
        out.append("| %d | %s | %.2fx | %s |" % (n, " | ".join(cells), rr, rg))
        targets.append(("latency N=%d: p99 at fixed rate vs raw (medians)" % n, "<= 2x", "%.2fx" % rr,
                        rr <= 2))
    out.append("")
    out.append("Delivered at the fixed rate, records/s: " + "; ".join(
        "N=%d: %s" % (n, ", ".join("%s %s" % (s, mrec(rows.get((s, n, "rate", "0"), {}).get("rate", 0)))
                                   for s in SERVERS)) for n in ns) + ".\n")
    out.append("![p99 latency at a fixed rate](fanout_latency.png)\n")
    out.append("### Latency at saturation (one sample per read), microseconds\n")
    out.append("| N | " + " | ".join("%s p50 / p99 / max" % LABEL[s] for s in SERVERS) + " |")
    out.append("|---:|" + "---|" * len(SERVERS))
    for n in ns:
        cells = []
        for s in SERVERS:
            x = rows.get((s, n, "sat", "0"))
            cells.append("%.0f / %.0f / %.0f" % (x["p50"], x["p99"], x["max"]) if x else "-")
        out.append("| %d | %s |" % (n, " | ".join(cells)))
    out.append("")
    out.append("### One client never reads (saturation)\n")
    out.append("| N readers | " + " | ".join(LABEL[s] for s in SERVERS) +
               " | pipecastd's cost of the stalled client: median (each repetition, %) | pipecastd skipped bytes (median run) |")
    out.append("|---:|" + "---:|" * (len(SERVERS) + 2))
    for n in ns:
        cells = []
        for s in SERVERS:
            a = rows.get((s, n, "sat", "0"), {}).get("rate", 0)
            b = rows.get((s, n, "sat", "1"), {})
            cells.append("%s (%s%%)" % (mrec(b.get("rate", 0)),
                                        "%+.0f " % (100 * (b.get("rate", 0) - a) / a) if a else "n/a ")
                         if b else "-")
        b = rows.get(("pipecastd", n, "sat", "1"), {})
        costs = paired_cost(reps, ("pipecastd", n, "sat", "0"), ("pipecastd", n, "sat", "1"))
        cost = median(costs)
        out.append("| %d | %s | %.1f %% (%s) | %s |" % (n, " | ".join(cells), cost,
                   ", ".join("%.0f" % c for c in costs), b.get("skipped", "-")))
        targets.append(("stalled client N=%d, producer as fast as it can: cost to the others" % n, "< 5 %",
                        "%.1f %% (runs: %s)" % (cost, ", ".join("%.0f" % c for c in costs)), cost < 5))
    out.append("")
    out.append("(Each cell: delivered records/s to the N readers with the stalled client "
               "connected, and the change of the medians against the runs without it. The "
               "cost column pairs each repetition's stalled run with the run made just "
               "before it; a negative cost is run-to-run noise, which at this load is "
               "larger than the 5 % being tested.)\n")
    # plots
    dat = os.path.join(RAW, "fanout_plot.dat")
    with open(dat, "w") as f:
        for n in ns:
            f.write("%d %s %s\n" % (n, " ".join(
                str(rows.get((s, n, "sat", "0"), {}).get("rate", 0) / 1e6) for s in SERVERS),
                " ".join(str(rows.get((s, n, "rate", "0"), {}).get("p99", 0)) for s in SERVERS)))
    k = len(SERVERS)
    gnuplot("set terminal png size 900,500\nset output '%s'\nset logscale x\nset xlabel 'clients (N)'\n"
            "set ylabel 'delivered M records/s'\nset grid\nset key left top\n"
            "set title 'Fan-out at saturation (2 shared cores)'\nplot %s\n" % (
                os.path.join(RES, "fanout_throughput.png"),
                ", ".join("'%s' using 1:%d with linespoints title '%s'" % (dat, i + 2, LABEL[s])
                          for i, s in enumerate(SERVERS))))
    gnuplot("set terminal png size 900,500\nset output '%s'\nset logscale xy\nset xlabel 'clients (N)'\n"
            "set ylabel 'p99 latency (us)'\nset grid\nset key left top\n"
            "set title 'p99 delivery latency at %d records/s'\nplot %s\n" % (
                os.path.join(RES, "fanout_latency.png"), rate,
                ", ".join("'%s' using 1:%d with linespoints title '%s'" % (dat, k + i + 2, LABEL[s])
                          for i, s in enumerate(SERVERS))))


# ---- 3. idle ----
def idle(out, targets):
    rows = [l.split("\t") for l in read("idle.tsv").splitlines() if l.count("\t") >= 5]
    if not rows:
        return
    out.append("## 3. Idle connections\n")
    out.append("RSS of the server process (`/proc/PID/status` VmRSS) before the clients "
               "connect and 1-2 s after the last one is in, divided by N. Clients are split "
               "over 2 load-generator processes from 5,000. Redis clients are subscribed "
               "to one channel. Kernel socket memory is not in RSS and not counted.\n")
    out.append("| server | N | connected | RSS before | RSS after | bytes per connection |")
    out.append("|---|---:|---:|---:|---:|---:|")
    per = HEAD["idle"] = {}
    for srv, n, conn, before, after, statrss in rows:
        n = int(n)
        b = (int(after) - int(before)) / n
        per[(srv, n)] = b
        out.append("| %s | %d | %s | %.2f MiB | %.2f MiB | %.0f |"
                   % (LABEL.get(srv, srv), n, conn, int(before) / MIB, int(after) / MIB, b))
        if srv == "pipecastd":
            targets.append(("idle N=%d: pipecastd bytes per connection" % n, "<= 512",
                            "%.0f" % b, b <= 512))
    out.append("")
    for (srv, n), b in sorted(per.items()):
        if srv == "pipecastd" and ("redis", n) in per and b > 0:
            out.append("- N=%d: Redis holds %.1fx the memory per idle connection of pipecastd."
                       % (n, per[("redis", n)] / b))
    out.append("")


# ---- 3b. idle clients of each kind (bench/idle_mem.sh) and struct sizes ----
IDLE_KIND_MAX = {"raw": 256, "sse": 512, "ws": 512}
IDLE_KIND_LABEL = {"raw": "raw", "sse": "SSE (GET /events)", "ws": "WebSocket (GET /ws)"}


def idle_kinds(out, targets):
    rows = [l.split("\t") for l in read("idle-kinds.tsv").splitlines() if l.count("\t") >= 7]
    sizes = [l.split("\t") for l in read("sizes.tsv").splitlines() if l.count("\t") >= 2]
    if rows:
        out.append("### pipecastd's idle clients by kind\n")
        out.append("`bench/idle_mem.sh`: one fresh daemon per kind, RSS before and after N "
                   "idle clients of that kind, over N (an SSE or WebSocket client connects and "
                   "leaves first, so that what the first one allocates once is in the figure "
                   "before). allocations_live is the daemon's own count of live heap "
                   "allocations (`show info`).\n")
        out.append("| clients | N | connected | RSS before | RSS after | bytes per connection "
                   "| allocations per connection | load |")
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|")
        for kind, n, conn, before, after, ab, aa, load in (r[:8] for r in rows):
            n = int(n)
            b = (int(after) - int(before)) / n
            out.append("| %s | %d | %s | %.2f MiB | %.2f MiB | %.0f | %.2f | %s |"
                       % (IDLE_KIND_LABEL.get(kind, kind), n, conn, int(before) / MIB,
                          int(after) / MIB, b, (num(aa) - num(ab)) / n, load))
            if kind in IDLE_KIND_MAX:
                targets.append(("idle N=%d: %s bytes per connection" % (n, kind),
                                "<= %d" % IDLE_KIND_MAX[kind], "%.0f" % b,
                                b <= IDLE_KIND_MAX[kind]))
        out.append("")
    if sizes:
        out.append("Per-connection structures (`pipecastd --sizes`; the rest of the bytes "
                   "per connection is malloc's header and rounding and libev's per-descriptor "
                   "and timer-heap entries):\n")
        out.append("| structure | bytes | who has one |")
        out.append("|---|---:|---|")
        for name, size, what in (s[:3] for s in sizes):
            out.append("| `%s` | %s | %s |" % (name, size, what))
        out.append("")


# ---- 4. churn ----
def churn(out, targets):
    parts = [kv(read("churn.%d" % i)) for i in (1, 2)]
    parts = [p for p in parts if p]
    if not parts:
        return
    fc = min(int(p["first_conn"]) for p in parts)
    lc = max(int(p["last_conn"]) for p in parts)
    fx = min(int(p["first_close"]) for p in parts if int(p["first_close"]))
    lx = max(int(p["last_close"]) for p in parts)
    closed = sum(int(p["closed"]) for p in parts)
    conns = sum(int(p["conns"]) for p in parts)
    late = subprocess.run([os.path.join(os.path.dirname(HERE), "build/bench/loadgen"), "hist",
                           os.path.join(RAW, "churn.hist.1"), os.path.join(RAW, "churn.hist.2")],
                          capture_output=True, text=True).stdout
    late = kv(late)
    probe = kv(read("churn.probe"))
    before = read("churn.before").split()
    after = read("churn.after").split()
    out.append("## 4. Timer churn (%s clients, 1 s idle timeout)\n" % ENV.get("CHURN_N", ""))
    out.append("Two load-generator processes connect and wait; the daemon's idle timer "
               "closes every connection. A probe sends `show info` on the stats socket "
               "every 10 ms throughout and records the round trip (the loop's stalls).\n")
    out.append("| figure | value |")
    out.append("|---|---:|")
    out.append("| clients connected / closed by the daemon | %d / %d |" % (conns, closed))
    out.append("| connect spread (first to last connect) | %.0f ms |" % ((lc - fc) / 1e6))
    out.append("| first to last close | %.0f ms |" % ((lx - fx) / 1e6))
    out.append("| lateness of a close after its 1 s (p50 / p99 / max) | %s / %s / %s ms |" % (
        "%.1f" % (num(late.get("p50_us")) / 1e3), "%.1f" % (num(late.get("p99_us")) / 1e3),
        "%.1f" % (num(late.get("max_us")) / 1e3)))
    out.append("| stats round trip during the churn (p50 / p99 / max), %s probes | %s / %s / %s ms |" % (
        probe.get("samples", "?"), "%.2f" % (num(probe.get("p50_us")) / 1e3),
        "%.2f" % (num(probe.get("p99_us")) / 1e3), "%.2f" % (num(probe.get("max_us")) / 1e3)))
    at = int(probe.get("max_at", "0") or 0)
    if at:
        if fx <= at <= lx:
            where = "during the close burst (%.0f ms after the first close)" % ((at - fx) / 1e6)
        elif fc <= at <= lc + 200000000:
            where = "during the connect burst (%.0f ms after the first connect)" % ((at - fc) / 1e6)
        else:
            where = "%.0f ms after the first close" % ((at - fx) / 1e6)
        out.append("| when the longest round trip started | %s |" % where)
    if len(before) >= 3 and len(after) >= 3:
        out.append("| timers_live before / after (timers_client_live) | %s / %s (%s / %s) |"
                   % (before[0], after[0], before[1], after[1]))
        out.append("| clients_connected after | %s |" % after[2])
        if len(after) >= 5:
            out.append("| clients_closed_idle_total / timer_expirations_total | %s / %s |"
                       % (after[3], after[4]))
        targets.append(("churn: timers_live back to its baseline", "= before",
                        "%s -> %s" % (before[0], after[0]), before[0] == after[0]))
    out.append("")
    out.append("The first-to-last close time contains the connect spread: each connection "
               "expires 1 s after its own connect. The lateness row is the per-connection "
               "figure (close time - connect time - 1 s, seen by the client).\n")


# ---- 5. callgrind ----
def total_ir(top):
    m = re.search(r"([\d,]+) \(100\.0%\)\s+PROGRAM TOTALS", top) or \
        re.search(r"([\d,]+)\s+PROGRAM TOTALS", top)
    return int(m.group(1).replace(",", "")) if m else 0


def clean_fn(line):
    """callgrind_annotate line without the object's and source's directories"""
    line = re.sub(r"\s*\[[^\]]*\]\s*$", "", line)
    return re.sub(r"(\S*/)+(?=[^/\s]+:)", "", line)


def callgrind_row(label, tag):
    """(label, total Ir, Ir of the run without records or 0, records delivered)"""
    sub = kv(read("%s.sub" % tag))
    ir = total_ir(read("%s.top" % tag))
    if not sub or not ir:
        return None
    return (label, ir, total_ir(read("%s-base.top" % tag)), int(sub.get("records", "0")), tag)


def callgrind(out, targets):
    top = read("callgrind.top")
    rows = [r for r in (callgrind_row(label, tag) for label, tag in (
        ("raw TCP clients", "callgrind"), ("EventSource clients (`/events`)", "callgrind-sse"),
        ("WebSocket clients (`/ws`)", "callgrind-ws"),
        ("raw TCP clients, before (`CG_BEFORE`: %s)" % ENV.get("CG_BEFORE_LABEL", "an earlier build"),
         "callgrind-before"))) if r]
    if not rows:
        return
    out.append("## 5. Instructions per delivered record (callgrind)\n")
    out.append("pipecastd under `valgrind --tool=callgrind`, %s clients of one kind, a producer "
               "writing %s records of 64 bytes as fast as it can, then end of input "
               "(`on_eof = exit`), a ring (`buffer`, %s) that holds the whole stream so that no "
               "client is dropped whatever the load. "
               "The same run with no record (start-up, %s connections, shutdown) is "
               "subtracted to give the cost of the records alone (the marginal column; "
               "QUICK runs only the raw clients' run without records).\n"
               % (ENV.get("CG_CLIENTS"), ENV.get("CG_RECORDS"), ENV.get("CG_BUFFER", "64MiB"),
                  ENV.get("CG_CLIENTS")))
    out.append("| clients | total Ir | Ir of the run without records | records delivered | "
               "Ir per delivered record (whole run) | Ir per delivered record (marginal) |")
    out.append("|---|---:|---:|---:|---:|---:|")
    for label, i, b0, r, tag in rows:
        out.append("| {} | {:,} | {} | {:,} | {:.1f} | {} |".format(
            label, i, "{:,}".format(b0) if b0 else "-", r, i / r if r else 0,
            "%.2f" % ((i - b0) / r) if r and b0 else "-"))
        HEAD.setdefault("ir", {})[tag] = (i - b0) / r if r and b0 else None
    out.append("")
    out.append("Instructions counted are user space only (the copies into the sockets "
               "happen in the kernel). The figure is deterministic for a given batching: "
               "it depends on how many records each `read()` and `writev()` carries, which "
               "the relative speed of the producer and the daemon decides (under valgrind "
               "the daemon is the slow side, so its reads are full: up to 256 KiB from a pipe "
               "enlarged to `pipe-max-size`). Most of the start-up cost is touching the "
               "rings' pages once through each of their two mappings and the framer's "
               "buffer for cutting long lines (`memset`); the WebSocket ring is set up "
               "with the first WebSocket client.\n")
    for label, tag in (("raw TCP clients", "callgrind"), ("EventSource clients", "callgrind-sse"),
                       ("WebSocket clients", "callgrind-ws")):
        top = read("%s.top" % tag)
        if not top:
            continue
        out.append("Top functions of the run with records, %s (`callgrind_annotate`):\n" % label)
        out.append("```")
        keep = False
        for line in top.splitlines():
            if "Auto-annotated source" in line:
                break
            if "PROGRAM TOTALS" in line or "file:function" in line:
                keep = True
            if keep and line.strip() and not line.startswith("-"):
                out.append(clean_fn(line)[:110])
        out.append("```\n")


# The scale-out figures (pipecastd(8), "Scaling out"): the two scripts' own
# reports, which already give every figure with its percentiles.
def scaleout(out):
    parts = [("redis-edge.txt", "One edge fed by Redis against a FIFO, and the Redis hop's "
              "latency (`bench/redis_edge.py`)"),
             ("relay-latency.txt", "The latency each `sse:` relay hop adds "
              "(`bench/relay_latency.py`)")]
    got = [(f, title) for f, title in parts if read(f).strip()]
    if not got:
        return
    out.append("## Scale-out: the Redis hop and relay hops\n")
    for f, title in got:
        out.append("%s:\n" % title)
        out.append("```\n%s\n```\n" % read(f).rstrip())


def main():
    out = ["# pipecast benchmarks\n"]
    out.append("Generated by `make bench%s` (`bench/run.sh`, `bench/report.py`)%s. Raw "
               "data: `bench/results/raw/` (not committed).\n"
               % (" QUICK=1" if QUICK else "", " in QUICK mode (reduced)" if QUICK else ""))
    out.append("| machine | |")
    out.append("|---|---|")
    for k, v in machine():
        out.append("| %s | %s |" % (k, v))
    ld = read("load.txt").splitlines()
    busy = [l.split(None, 2) for l in ld if l.startswith("busy")]
    st = [l[6:] for l in ld if l.startswith("start ")]
    en = [l[4:] for l in ld if l.startswith("end ")]
    if st:
        out.append("| load average at start / end | %s / %s |" % (st[0], en[0] if en else "?"))
    if busy:
        out.append("| busy processes at start (CPU %% since they started) | %s |"
                   % ", ".join("%s %s%%" % (b[2], b[1]) for b in busy))
    parts = [l.split(None, 2)[1:] for l in ld if l.startswith("part ")]
    if parts:
        out.append("| load average as each part started (1, 5, 15 min) | %s |"
                   % "; ".join("%s: %s" % (p[0], p[1]) for p in parts if len(p) == 2))
    out.append("")
    out.append("The machine has 2 cores, shared by the producer, the program under test and "
               "the receivers, and by whatever else was running (rows above). Figures from "
               "a busy machine are lower and noisier than from a quiet one.\n")
    targets = []
    body = []
    seed(body, targets)
    fanout(body, targets)
    idle(body, targets)
    idle_kinds(body, targets)
    churn(body, targets)
    callgrind(body, targets)
    report_browser.section(body, targets, HEAD, read, num, ENV)
    scaleout(body)
    out.append("## Targets\n")
    out.append("| target | wanted | measured | met |")
    out.append("|---|---|---|---|")
    for name, want, got, ok in targets:
        out.append("| %s | %s | %s | %s |" % (name, want, got,
                                              "n/a" if ok is None else "yes" if ok else "**no**"))
    out.append("")
    out.extend(body)
    extra = read_file(os.path.join(HERE, "NOTES.md"))
    if extra:
        out.append(extra)
    with open(os.path.join(RES, "RESULTS.md"), "w") as f:
        f.write("\n".join(out) + "\n")
    headline.write(RES, HEAD, "Headline figures of the %srun of %s (2 cores shared by the "
                   "producer, the server and the receivers; load average at start / end: "
                   "%s / %s; medians of %s runs where repeated):"
                   % ("QUICK " if QUICK else "full ", ENV.get("START_EPOCH", "?"),
                      st[0] if st else "?", en[0] if en else "?", ENV.get("REPS", "3")))


if __name__ == "__main__":
    main()
