"""Section 6 of RESULTS.md: browser fan-out, pipecastd's raw, SSE (/events)
and WebSocket (/ws) clients and nchan's EventSource and WebSocket
subscribers. Reads raw/browser.tsv and raw/nchan-idle.tsv (bench/browser.sh),
the raw fan-out rows of raw/fanout.tsv when the browser runs have no raw
clients of their own (QUICK), and pipecastd's idle SSE and WebSocket rows
of raw/idle-kinds.tsv (bench/idle_mem.sh) when that part measured them.
Called by report.py.
"""

PROTO = {"raw": "raw TCP", "rawhb": "raw TCP, a heartbeat first", "sse": "EventSource (SSE)",
         "ws": "WebSocket"}
PEERS = (("nchan", "sse"), ("nchan", "ws"), ("websocketd", "ws"))


def median(v):
    """the median of v, 0 when empty"""
    v = sorted(v)
    if not v:
        return 0.0
    return v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2


def mrec(x):
    """records/s as M records/s text"""
    return "%.2f M" % (x / 1e6) if x >= 1e5 else "%.0f" % x


def mbytes(x):
    """bytes/s as MB/s text"""
    return "%.1f MB/s" % (x / 1e6)


def pct(a, b):
    """a over b in %, nan when b is 0"""
    return 100.0 * a / b if b else float("nan")


def load(read, num):
    """{(server, proto, N, mode): [run, ...]} in the order the runs were made"""
    rows = {}
    for line in read("browser.tsv").splitlines():
        p = line.split("\t")
        if len(p) < 15:
            continue
        rows.setdefault((p[0], p[1], int(p[2]), p[3]), []).append(dict(
            rate=num(p[4]), bps=num(p[5]), bpr=num(p[6]), p50=num(p[7]), p99=num(p[8]),
            max=num(p[9]), closed=num(p[10]), bad=num(p[11]), skipped=p[12], load=p[13],
            cores=num(p[14]), subcores=num(p[15]) if len(p) > 15 else None))
    # raw clients' latency at RATE (and, in QUICK runs, which have no raw
    # clients here, their saturation too): the raw fan-out runs of the same
    # make bench, at each N where raw clients ran here (any N when none did;
    # not at an N that only websocketd's comparison ran)
    raw_ns = {k[2] for k in rows if k[:2] == ("pipecastd", "raw")}
    wanted = {(k[2], k[3]) for k in rows if k[0] == "pipecastd" and
              (not raw_ns or k[2] in raw_ns)} - \
        {(k[2], k[3]) for k in rows if k[:2] == ("pipecastd", "raw")}
    for line in read("fanout.tsv").splitlines():
        p = line.split("\t")
        if len(p) < 12 or p[0] != "pipecastd" or p[3] != "0" or (int(p[1]), p[2]) not in wanted:
            continue
        rows.setdefault(("pipecastd", "raw", int(p[1]), p[2]), []).append(dict(
            rate=num(p[4]), bps=64 * num(p[4]), bpr=64.0, p50=num(p[5]), p99=num(p[6]),
            max=num(p[7]), closed=num(p[8]), bad=num(p[9]), skipped=p[10], load=p[11],
            cores=num(p[12]) if len(p) > 12 else 0, subcores=num(p[14]) if len(p) > 14 else None,
            from_fan=True))
    return rows


def med(lst, f):
    """the median of field f over runs"""
    return median([x[f] for x in lst])


def runs(lst, f="rate", fmt=mrec):
    """field f of each run, in the order they ran"""
    return ", ".join(fmt(x[f]) for x in lst)


def pairs(a, b):
    """each repetition's a / b, in %"""
    return ", ".join("%.0f %%" % pct(x["rate"], y["rate"]) for x, y in zip(a, b))


def pipecastd_idle(read, num):
    """bytes per idle connection of pipecastd's clients by kind (raw, sse, ws),
    from raw/idle-kinds.tsv (bench/idle_mem.sh: kind N connected RSS-before
    RSS-after ...), at the largest N measured: {kind: (N, bytes)}"""
    got = {}
    for line in read("idle-kinds.tsv").splitlines():
        p = line.split("\t")
        if len(p) >= 5 and num(p[1]):
            got.setdefault(p[0], []).append((int(p[1]), (num(p[4]) - num(p[3])) / num(p[1])))
    return {k: max(v) for k, v in got.items()}


def section(out, targets, head, read, num, env):
    """appends section 6 to out and its targets to targets; fills head"""
    rows = load(read, num)
    idle = [l.split("\t") for l in read("nchan-idle.tsv").splitlines() if l.count("\t") >= 4]
    if not rows and not idle:
        return
    rate = int(env.get("RATE", "10000"))
    ns = sorted({k[2] for k in rows})
    out.append("## 6. Browser fan-out: SSE, WebSocket and nchan\n")
    out.append("The same 64-byte records (a send time in CLOCK_MONOTONIC ns after `@`) to N "
               "clients of one kind at a time (`bench/browser.sh`): pipecastd's raw TCP "
               "clients, its EventSource clients (`GET /events`) and its WebSocket clients "
               "(`GET /ws`, one text message per record), and nchan's EventSource and "
               "WebSocket subscribers (nchan 1.3.6 in Debian's `nginx-light` 1.22, "
               "`bench/nchan.sh`: one worker, a `nchan_publisher` location fed one message "
               "per pipelined HTTP POST, at most 64 unanswered, and a `nchan_subscriber` "
               "location starting at the newest message). The receivers (`loadgen sub`, 2 "
               "processes) count every byte and find each record by its `@` (SSE) or its "
               "fixed frame (raw, WebSocket). *Saturation*: the producer writes as fast as "
               "it can (pipecastd: `overflow = skip`, a 64 MiB ring); *fixed rate*: %d "
               "records/s offered, every record's latency. For each N, repetition and mode "
               "the kinds run back to back, each nchan run right before pipecastd's run of "
               "the same protocol. Each figure is the median of the runs listed beside it; "
               "the load column is the 1-minute load average after each run (2 cores).\n"
               % rate)
    sse_vs_raw(out, targets, head, rows, ns)
    without_pacing(out, targets, rows, ns)
    latency(out, head, rows, ns, rate)
    against_nchan(out, targets, head, rows, ns)
    ours = pipecastd_idle(read, num)
    memory(out, targets, head, idle, ours, num)
    websocketd_memory(out, head, read, num, ours)


def sse_vs_raw(out, targets, head, rows, ns):
    """pipecastd's SSE and WebSocket clients against its raw clients at saturation (issue 11)"""
    if not any(k[0] == "pipecastd" and k[3] == "sat" for k in rows):
        return
    out.append("### pipecastd: SSE and WebSocket against raw TCP fan-out, saturation\n")
    out.append("An SSE event for a 64-byte record is `id: EPOCH-SEQ`, `data: ` and the "
               "record, and an empty line; a WebSocket message is a 2-byte header and the "
               "record without its newline. Bytes per record are measured (every byte the "
               "receivers read over the records they found). Where the share in bytes/s is "
               "near 100 % while the share in records/s is not, the records/s are bounded "
               "by the bytes each record costs on the wire, not by the work per record.\n")
    out.append("*Raw TCP, a heartbeat first* are raw clients again, each sent a heartbeat "
               "(`heartbeat = 100ms`) after all had connected and before the stream began. "
               "Their sockets have then carried a small write before the burst, as an SSE or "
               "WebSocket socket has carried its HTTP response head, and this machine's "
               "congestion control (%s) treats such sockets differently: see the notes under "
               "the table.\n" % congestion_control())
    out.append("| N | clients | records/s (median) | runs | bytes per record | bytes/s (median) | "
               "records/s, % of raw | bytes/s, % of raw | wire bound: raw's bytes per record "
               "over these | % of raw in each repetition | records/s, % of raw with a "
               "heartbeat first | server cores | receivers cores | load |")
    out.append("|---:|---|---:|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---|")
    verdicts = []
    for n in ns:
        raw = rows.get(("pipecastd", "raw", n, "sat"), [])
        if not raw:          # an N that only websocketd's comparison ran
            continue
        rr, rb = med(raw, "rate"), med(raw, "bps")
        hb = rows.get(("pipecastd", "rawhb", n, "sat"), [])
        rh = med(hb, "rate") if hb else 0
        for proto in ("raw", "rawhb", "sse", "ws"):
            lst = rows.get(("pipecastd", proto, n, "sat"), [])
            if not lst:
                continue
            r, b, bpr = med(lst, "rate"), med(lst, "bps"), med(lst, "bpr")
            other = proto != "raw" and rr > 0
            bound = pct(med(raw, "bpr"), bpr) if other and bpr else float("nan")
            src = " (the raw fan-out runs)" if lst[0].get("from_fan") else ""
            out.append("| %d | %s%s | %s | %s | %.1f | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                n, PROTO[proto], src, mrec(r), runs(lst), bpr, mbytes(b),
                "%.0f %%" % pct(r, rr) if other else "", "%.0f %%" % pct(b, rb) if other else "",
                "%.0f %%" % bound if other else "",
                pairs(lst, raw) if other and not raw[0].get("from_fan") else "",
                "%.0f %% (%s)" % (pct(r, rh), pairs(lst, hb)) if proto in ("sse", "ws") and rh
                else "",
                "%.2f" % med(lst, "cores") if lst[0].get("cores") else "-",
                "%.2f" % med(lst, "subcores") if lst[0].get("subcores") is not None else "-",
                ", ".join(x["load"] for x in lst)))
            if proto == "sse" and other:
                share = pct(r, rr)
                verdicts.append(
                    "N = %d: SSE delivered %.0f %% of raw's records/s and %.0f %% of its bytes/s; "
                    "at %.0f bytes per record against %.0f, the wire allows %.0f %% of raw's "
                    "records/s at raw's bytes/s, so %s." % (
                        n, share, pct(b, rb), bpr, med(raw, "bpr"), bound,
                        "the records/s are bounded by the bytes each record costs on the wire"
                        if share >= 0.9 * bound else
                        "the wire's bytes alone do not explain the shortfall (bytes/s is below raw's)"))
                targets.append(("SSE fan-out N=%d: records/s, share of raw TCP (issue 11)" % n,
                                ">= 90 %", "%.0f %% (bytes/s: %.0f %%; %.0f against %.0f bytes "
                                "per record: %.0f %% at raw's bytes/s)" % (
                                    share, pct(b, rb), bpr, med(raw, "bpr"), bound), r >= 0.9 * rr))
            if proto == "ws" and other:
                ws_verdict(verdicts, targets, n, r, rr, rh)
            head[("share", proto, n)] = (pct(r, rr), pct(b, rb)) if other else None
            head[("sat", "pipecastd", proto, n)] = r
    out.append("")
    for v in verdicts:
        out.append("- " + v)
    if any(k[1] == "rawhb" for k in rows):
        out.append("- Why a heartbeat first matters: with a pacing congestion control (bbr), a "
                   "socket that sent nothing before the burst stays in its start-up mode, "
                   "paced at almost three times its bandwidth estimate, that is not at all on "
                   "loopback; a socket that carried a small write first leaves start-up within "
                   "milliseconds of the burst and is then paced by a timer per socket "
                   "(`ss -ti` on the server's sockets: `pacing_gain` 2.89 on most raw ones, "
                   "1.25 or 1 on nearly all others, and several times the local timer "
                   "interrupts). What those timers cost the server is the gap between the two "
                   "raw rows above. An SSE or WebSocket socket always carries its "
                   "response head first, so the raw clients with a heartbeat first are the "
                   "like-for-like reference; `bench/NOTES.md` has the measurements." +
                   (" The next table makes the same comparison with a congestion control "
                    "that does not pace." if any("@" in k[1] for k in rows) else ""))
    out.append("")


def congestion_control():
    """the machine's default TCP congestion control, as the kernel says"""
    try:
        with open("/proc/sys/net/ipv4/tcp_congestion_control") as f:
            return f.read().strip()
    except OSError:
        return "unknown"


def ws_verdict(verdicts, targets, n, r, rr, rh):
    """WebSocket's share of raw TCP (issue 12), literal and with the same TCP
    history (raw clients sent a heartbeat before the stream, as a WebSocket
    socket was sent its 101 response head)"""
    targets.append(("WebSocket fan-out N=%d: records/s, share of raw TCP (issue 12)" % n,
                    ">= 90 %", "%.0f %%" % pct(r, rr), r >= 0.9 * rr))
    if not rh:
        return
    targets.append(("WebSocket fan-out N=%d: records/s, share of raw TCP whose sockets also "
                    "carried a write before the stream (a heartbeat; issue 12)" % n,
                    ">= 90 %", "%.0f %%" % pct(r, rh), r >= 0.9 * rh))
    verdicts.append(
        "N = %d: WebSocket delivered %.0f %% of raw's records/s, and %.0f %% of raw's when each "
        "raw socket, like each WebSocket one, had carried a small write before the stream "
        "(raw with a heartbeat first delivered %.0f %% of raw)." % (
            n, pct(r, rr), pct(r, rh), pct(rh, rr)))


def without_pacing(out, targets, rows, ns):
    """raw and WebSocket runs in a network namespace whose congestion control
    does not pace (bench/browser.sh, kinds PROTO@CC): WebSocket's share of raw
    with the sockets' TCP history out of the comparison (issue 12)"""
    ccs = sorted({k[1].split("@")[1] for k in rows if "@" in k[1]})
    if not ccs:
        return
    out.append("### WebSocket against raw TCP without pacing, saturation\n")
    out.append("The raw and WebSocket runs once more, the daemon and its receivers in a "
               "network namespace of their own whose TCP congestion control is %s, with a "
               "loopback and socket buffers like the host's (MTU 65,536), two alternating "
               "pairs in each repetition. %s does not pace, so every socket sends alike "
               "whatever it carried before the stream; what is left between the two rows is "
               "the work and the bytes of the protocol.\n" % (" and ".join(ccs), "It"
                                                              if len(ccs) == 1 else "They"))
    out.append("| N | congestion control | clients | records/s (median) | runs | bytes/s (median) "
               "| records/s, % of raw | % of raw in each repetition | server cores | "
               "receivers cores | load |")
    out.append("|---:|---|---|---:|---|---:|---:|---|---:|---:|---|")
    for n in ns:
        for cc in ccs:
            raw = rows.get(("pipecastd", "raw@" + cc, n, "sat"), [])
            rr = med(raw, "rate") if raw else 0
            for proto in ("raw", "ws"):
                lst = rows.get(("pipecastd", proto + "@" + cc, n, "sat"), [])
                if not lst:
                    continue
                r, other = med(lst, "rate"), proto != "raw" and rr > 0
                out.append("| %d | %s | %s | %s | %s | %s | %s | %s | %.2f | %s | %s |" % (
                    n, cc, PROTO[proto], mrec(r), runs(lst), mbytes(med(lst, "bps")),
                    "%.0f %%" % pct(r, rr) if other else "", pairs(lst, raw) if other else "",
                    med(lst, "cores"),
                    "%.2f" % med(lst, "subcores") if lst[0].get("subcores") is not None else "-",
                    ", ".join(x["load"] for x in lst)))
                if other:
                    targets.append(("WebSocket fan-out N=%d: records/s, share of raw TCP, both "
                                    "without pacing (%s, a network namespace; issue 12)" % (n, cc),
                                    ">= 90 %", "%.0f %% (each repetition: %s)" % (
                                        pct(r, rr), pairs(lst, raw)), r >= 0.9 * rr))
    out.append("")


def latency(out, head, rows, ns, rate):
    """p50/p99/max at the fixed offered rate, every server and protocol"""
    if not any(k[3] == "rate" for k in rows):
        return
    out.append("### Latency at a fixed offered rate (%d records/s), microseconds\n" % rate)
    out.append("| N | server | clients | delivered records/s (of %s offered) | p50 / p99 / max "
               "(median run) | p99 of each run | closed | load |" % "N x %d" % rate)
    out.append("|---:|---|---|---:|---|---|---:|---|")
    for n in ns:
        for srv, proto in (("pipecastd", "raw"), ("pipecastd", "sse"), ("nchan", "sse"),
                           ("pipecastd", "ws"), ("nchan", "ws"), ("websocketd", "ws")):
            lst = rows.get((srv, proto, n, "rate"), [])
            if not lst:
                continue
            m = sorted(lst, key=lambda x: x["p99"])[len(lst) // 2]
            out.append("| %d | %s | %s%s | %s | %.0f / %.0f / %.0f | %s | %.0f | %s |" % (
                n, srv, PROTO[proto], " (the raw fan-out runs)" if lst[0].get("from_fan") else "",
                mrec(med(lst, "rate")), m["p50"], m["p99"], m["max"],
                ", ".join("%.0f" % x["p99"] for x in lst), med(lst, "closed"),
                ", ".join(x["load"] for x in lst)))
            head[("p99", srv, proto, n)] = med(lst, "p99")
    out.append("")
    out.append("A server that delivers less than offered cannot keep up with %d records/s "
               "at that N on this machine, and its latency is its backlog.\n" % rate)


def against_nchan(out, targets, head, rows, ns):
    """pipecastd against nchan (issue 16) and websocketd at saturation"""
    if not any(k[0] != "pipecastd" for k in rows):
        return
    out.append("### pipecastd against nchan and websocketd, saturation\n")
    out.append("| N | peer | clients | peer records/s (runs) | pipecastd records/s (runs) | "
               "pipecastd / peer (each repetition) | peer cores | pipecastd cores | load (peer, pipecastd) |")
    out.append("|---:|---|---|---:|---:|---|---:|---:|---|")
    for n in ns:
        for peer, proto in PEERS:
            a = rows.get((peer, proto, n, "sat"), [])
            b = rows.get(("pipecastd", proto, n, "sat"), [])
            if not a:
                continue
            ra, rb = med(a, "rate"), med(b, "rate")
            each = ", ".join("%.1fx" % (y["rate"] / x["rate"]) for x, y in zip(a, b) if x["rate"])
            out.append("| %d | %s | %s | %s (%s) | %s (%s) | %s (%s) | %.2f | %s | %s |" % (
                n, peer, PROTO[proto], mrec(ra), runs(a), mrec(rb) if b else "-",
                runs(b) if b else "-", "%.1fx" % (rb / ra) if ra and b else "-", each,
                med(a, "cores"), "%.2f" % med(b, "cores") if b else "-",
                "; ".join("%s, %s" % (x["load"], y["load"]) for x, y in zip(a, b))))
            head[("sat", peer, proto, n)] = ra
            if b and peer == "nchan":
                targets.append(("nchan N=%d, %s: pipecastd's records/s against nchan's (issue 16)"
                                % (n, PROTO[proto]), ">= 3x",
                                "%.1fx (runs: %s)" % (rb / ra if ra else float("inf"), each),
                                rb >= 3 * ra))
    out.append("")
    out.append("nchan publishes one message per HTTP request, so its rate is bounded by its "
               "publisher path as well as by its fan-out; its worker's CPU is the peer cores "
               "column. websocketd runs a process per client (`socat` reading pipecastd's raw "
               "port); its cores column counts websocketd itself, not those processes.\n")


def memory(out, targets, head, idle, ours, num):
    """nchan's memory per idle subscriber beside pipecastd's (issue 16)"""
    if not idle:
        return
    out.append("### Memory per idle subscriber\n")
    out.append("RSS of the nchan worker (`/proc/PID/status`) before and after N idle "
               "subscribers connected, over N (nchan's shared memory is counted where the "
               "worker touched it), the median of the runs listed; pipecastd's figure for the "
               "same kind of client comes from the idle-connection part of this run (section "
               "3, `bench/idle_mem.sh`, its largest N), when it measured it.\n")
    out.append("| clients | N | subscribed | nchan worker RSS before / after (median run) | "
               "nchan bytes per subscriber (runs) | pipecastd bytes per client | "
               "pipecastd / nchan | load |")
    out.append("|---|---:|---:|---|---:|---:|---:|---|")
    runs_of = {}
    for proto, n, conn, before, after, ld in (p[:6] for p in idle):
        runs_of.setdefault((proto, int(n)), []).append(dict(
            conn=conn, before=num(before), after=num(after), load=ld,
            per=(num(after) - num(before)) / num(n, 1)))
    best = {}
    for proto, (_, mine) in ours.items():
        head[("idle", "pipecastd", proto)] = mine
    for (proto, n), lst in sorted(runs_of.items()):
        m = sorted(lst, key=lambda x: x["per"])[len(lst) // 2]
        per = med(lst, "per")
        best[proto] = per                           # the largest N wins
        big, mine = ours.get(proto, (0, None))
        out.append("| %s | %d | %s | %.2f / %.2f MiB | %.0f (%s) | %s | %s | %s |" % (
            PROTO.get(proto, proto), n, m["conn"], m["before"] / 2**20, m["after"] / 2**20, per,
            ", ".join("%.0f" % x["per"] for x in lst),
            "{:.0f} (N = {:,})".format(mine, big) if mine is not None else "not measured in this run",
            "%.2f" % (mine / per) if mine is not None and per > 0 else "-",
            ", ".join(x["load"] for x in lst)))
    out.append("")
    for proto, per in best.items():
        head[("idle", "nchan", proto)] = per
        mine = ours.get(proto, (0, None))[1]
        targets.append(("idle %s: pipecastd's memory per client against nchan's (issue 16)"
                        % PROTO.get(proto, proto), "<= 1/4",
                        "%.0f B against %.0f B (%.2f)" % (mine, per, mine / per)
                        if mine is not None and per > 0 else
                        "nchan %.0f B; pipecastd not measured in this run" % per,
                        None if mine is None or per <= 0 else mine * 4 <= per))


def websocketd_memory(out, head, read, num, ours):
    """websocketd's resident memory per client (itself and the process it runs
    for each), from raw/websocketd-mem.tsv (bench/browser.sh), beside
    pipecastd's per idle WebSocket client"""
    got = {}
    for line in read("websocketd-mem.tsv").splitlines():
        p = line.split("\t")
        if len(p) >= 4 and num(p[0]) and p[1] != "-":
            got.setdefault(int(p[0]), []).append(dict(
                before=num(p[1]), after=num(p[2]), load=p[3],
                per=(num(p[2]) - num(p[1])) / num(p[0])))
    if not got:
        return
    big, mine = ours.get("ws", (0, None))
    out.append("### websocketd: memory per client\n")
    out.append("Resident memory of websocketd and the processes it started (`/proc/PID/status`, "
               "one `socat` per client) before the clients connected and with all N connected, "
               "before the stream began, over N; the median of the runs listed. pipecastd's "
               "figure is its idle WebSocket client's from section 3 (`bench/idle_mem.sh`), "
               "when this run measured it.\n")
    out.append("| N | websocketd RSS before / after (median run) | bytes per client (runs) | "
               "pipecastd bytes per WebSocket client | websocketd / pipecastd | load |")
    out.append("|---:|---|---:|---:|---:|---|")
    for n, lst in sorted(got.items()):
        m = sorted(lst, key=lambda x: x["per"])[len(lst) // 2]
        per = med(lst, "per")
        out.append("| %d | %.1f / %.1f MiB | %s (%s) | %s | %s | %s |" % (
            n, m["before"] / 2**20, m["after"] / 2**20, "{:,.0f}".format(per),
            ", ".join("{:,.0f}".format(x["per"]) for x in lst),
            "{:.0f} (N = {:,})".format(mine, big) if mine is not None else "not measured",
            "%.0fx" % (per / mine) if mine else "-", ", ".join(x["load"] for x in lst)))
        head[("idle", "websocketd", "ws")] = per          # the largest N wins
    out.append("")
