# The bookkeeping of bench/run.sh.
#   report.py case NAME PEER TARGETS CHECKS RUNS C1..Cn P1..Pn  -> one JSON line on stdout, a line on stderr
#   report.py mem NAME RSS_N_KB RSS_SMALL_KB N SMALL TARGETS  -> likewise, for memory flatness
#   report.py table RESULTS.jsonl OUT.json META.json     -> prints the table, writes OUT.json
# A run is "SECONDS [key=value ...]" (extras such as rss_kb, p99_ms); medians
# of every number are kept, cachectl's as c_<key>, the peer's as p_<key>.
# TARGETS is a comma-separated list of METRIC OP VALUE, METRIC one of
#   ratio       cachectl's median time / the peer's (<=)
#   speedup     the peer's / cachectl's (>=)
#   throughput  the peer's time / cachectl's, i.e. cachectl's throughput as a share of the peer's (>=)
#   secs        cachectl's median time (<=)
#   c.KEY       a median extra of cachectl's runs, e.g. c.p99_ms<=10
#   rss_ratio   max RSS at N / at N/10 (mem records)
# or "none" (reported, no target).
# Where cachectl's runs report srv_s (the server's CPU seconds during the run,
# bench/run.sh's srv), the case also gets "ceiling": the peer's time over that,
# the best ratio (speedup, throughput) any client could reach for the same
# server work. A speed target above it is marked as such in the table.
# CHECKS ("-" for none) is a comma-separated list of KEY==VALUE that every run,
# cachectl's and the peer's, must report as an extra (c.KEY==VALUE: only
# cachectl's runs, p.KEY==VALUE: only the peer's): the end state the case
# should leave (keys stored, keys or rows left, keys found). A run that does not is a
# wrong result and fails the case whatever its time: a fast command that did
# not do the work measures nothing.
import json, re, statistics, sys


def parse_run(s):
    f = s.split()
    out = {"secs": float(f[0])}
    for kv in f[1:]:
        k, _, v = kv.partition("=")
        try:
            out[k] = float(v)
        except ValueError:
            out[k] = None  # e.g. "found=" from a helper that got nothing: a failed check, not a crash
    return out


def check(targets, metrics):
    res = []
    if targets == "none":
        return res, None
    ok_all = True
    for t in targets.split(","):
        m = re.fullmatch(r"([\w.]+)(<=|>=)([\d.]+)", t)
        if not m:
            sys.exit("report.py: bad target " + t)
        name, op, val = m.group(1), m.group(2), float(m.group(3))
        got = metrics.get(name)
        ok = got is not None and (got <= val if op == "<=" else got >= val)
        ok_all = ok_all and ok
        res.append({"metric": name, "op": op, "value": val, "measured": got, "pass": ok})
    return res, ok_all


def med(runs, key):
    vals = [r[key] for r in runs if r.get(key) is not None]
    return round(statistics.median(vals), 4) if vals else None


def wrong_runs(checks, side, runs):
    """The runs that miss one of CHECKS, as "side run N: key=got, want V"."""
    out = []
    if checks == "-":
        return out
    for t in checks.split(","):
        m = re.fullmatch(r"(?:([cp])\.)?(\w+)==(-?[\d.]+)", t)
        if not m:
            sys.exit("report.py: bad check " + t)
        if m.group(1) and m.group(1) != side[0]:
            continue
        key, want = m.group(2), float(m.group(3))
        for i, r in enumerate(runs):
            if r.get(key) != want:
                out.append("%s run %d: %s=%s, want %g" % (side, i + 1, key, "missing" if r.get(key) is None else "%g" % r[key], want))
    return out


def cmd_case(a):
    name, peer, targets, checks, n = a[0], a[1], a[2], a[3], int(a[4])
    c = [parse_run(x) for x in a[5:5 + n]]
    p = [parse_run(x) for x in a[5 + n:5 + 2 * n]]
    r = {"case": name, "peer": peer, "runs": n}
    for side, runs in (("c", c), ("p", p)):
        keys = sorted({k for x in runs for k in x})
        for k in keys:
            r["%s_%s" % (side, k)] = med(runs, k)
    r["cachectl_s"], r["peer_s"] = r["c_secs"], r.get("p_secs")
    metrics = {"secs": r["cachectl_s"]}
    for k in list(r):
        if k.startswith("c_"):
            metrics["c." + k[2:]] = r[k]
    if p and r["peer_s"]:
        r["ratio"] = round(r["cachectl_s"] / r["peer_s"], 3)
        metrics.update(ratio=r["ratio"], speedup=round(r["peer_s"] / r["cachectl_s"], 3),
                       throughput=round(r["peer_s"] / r["cachectl_s"], 3))
    if r.get("c_srv_s") and r.get("peer_s"):
        r["ceiling"] = round(r["peer_s"] / r["c_srv_s"], 3)
    r["cachectl_runs"], r["peer_runs"] = c, p
    r["targets"], r["pass"] = check(targets, metrics)
    r["errors"] = sum(1 for x in c + p if "exit" in x)
    if r["errors"]:
        r["pass"] = False  # a failed command's time measures nothing
    r["checks"] = [] if checks == "-" else checks.split(",")
    r["wrong"] = wrong_runs(checks, "cachectl", c) + wrong_runs(checks, "peer", p)
    if r["wrong"]:
        r["pass"] = False
        for w in r["wrong"]:
            print("bench: %s: wrong result: %s" % (name, w), file=sys.stderr)
    extra = " ".join("%s %s" % (k, r[k]) for k in r if k[:2] in ("c_", "p_") and k not in ("c_secs", "p_secs"))
    print("%-44s cachectl %8.3fs   %-28s %8ss   ratio %s  %s" % (
        name, r["cachectl_s"], peer, r["peer_s"], r.get("ratio", "-"), extra), file=sys.stderr)
    print(json.dumps(r))


def cmd_mem(a):
    name, big, small, n, sn, targets = a[0], float(a[1]), float(a[2]), int(a[3]), int(a[4]), a[5]
    r = {"case": name, "kind": "memory", "n": n, "rss_kb_at_n": big, "n_small": sn, "rss_kb_at_small": small,
         "rss_ratio": round(big / small, 3), "bytes_per_key": round((big - small) * 1024 / (n - sn), 1)}
    r["targets"], r["pass"] = check(targets, {"rss_ratio": r["rss_ratio"]})
    print("%-44s max RSS %d KiB at %d, %d KiB at %d: ratio %.3f" % (name, big, n, small, sn, r["rss_ratio"]), file=sys.stderr)
    print(json.dumps(r))


def describe(t, r):
    m, op, v, got = t["metric"], t["op"], t["value"], t["measured"]
    if got is None:
        return "%s %s %g" % (m, op, v), "n/a"
    if op == "info" and m == "ceiling":
        return "server-bound ceiling", "%.2f" % got
    if op == "info":
        peer = r.get("p_" + m[2:])
        return "%s (no target)" % m[2:], "%g" % got + ("" if peer is None else " (peer %g)" % peer)
    if m == "ratio":
        return "ratio %s %g" % (op, v), "%.2f" % got
    if m == "speedup":
        return "%s %gx faster" % (op, v), "%.1fx" % got
    if m == "throughput":
        return "%s %d%% of peer" % (op, v * 100), "%d%%" % round(got * 100)
    if m == "secs":
        return "%s %g s" % (op, v), "%.3f s" % got
    if m == "rss_ratio":
        return "RSS(N)/RSS(N/10) %s %g" % (op, v), "%.2f" % got
    peer = r.get("p_" + m[2:]) if m.startswith("c.") else None
    return "%s %s %g" % (m[2:] if m.startswith("c.") else m, op, v), "%g" % got + ("" if peer is None else " (peer %g)" % peer)


def cmd_table(a):
    rows = [json.loads(l) for l in open(a[0]) if l.strip()]
    meta = json.load(open(a[2]))
    print()
    print("%-44s %10s %-28s %10s  %-22s %-10s %s" % ("case", "cachectl", "peer", "peer", "target", "measured", ""))
    for r in rows:
        if r.get("kind") == "memory":
            c, peer, p = "%d KiB" % r["rss_kb_at_n"], "same, N/10 keys", "%d KiB" % r["rss_kb_at_small"]
        else:
            c, peer, p = "%.3fs" % r["cachectl_s"], r["peer"], ("%.3fs" % r["peer_s"]) if r.get("peer_s") else "-"
        ts = r["targets"] or [None]
        for k in ("p99_ms", "max_ms", "srv_s"):  # shown where no target names them
            if r.get("c_" + k) is not None and not any(t and t["metric"] == "c." + k for t in ts):
                ts = ts + [{"metric": "c." + k, "op": "info", "value": 0, "measured": r["c_" + k], "pass": None}]
        if r.get("ceiling") is not None:
            ts = ts + [{"metric": "ceiling", "op": "info", "value": 0, "measured": r["ceiling"], "pass": None}]
        for i, t in enumerate(ts):
            tgt, got = describe(t, r) if t else ("-", "-")
            verdict = "" if t is None or t["pass"] is None else ("PASS" if t["pass"] else "FAIL")
            if verdict == "FAIL" and t["metric"] in ("speedup", "throughput") and r.get("ceiling") is not None and t["value"] > r["ceiling"]:
                verdict = "FAIL (above the server-bound ceiling)"
            if r.get("errors"):
                verdict = "ERROR (%d failed runs)" % r["errors"]
            elif r.get("wrong"):
                verdict = "WRONG RESULT (%d)" % len(r["wrong"])
            if i == 0:
                print("%-44s %10s %-28s %10s  %-22s %-10s %s" % (r["case"], c, peer, p, tgt, got, verdict))
            else:
                print("%-44s %10s %-28s %10s  %-22s %-10s %s" % ("", "", "", "", tgt, got, verdict))
    checked = [r for r in rows if r["pass"] is not None]
    ts = [t for r in rows for t in r["targets"]]
    above = sum(1 for r in rows for t in r["targets"] if not t["pass"] and t["metric"] in ("speedup", "throughput")
                and r.get("ceiling") is not None and t["value"] > r["ceiling"])
    print("\n%d of %d targets met (%d missed above the server-bound ceiling); %d of %d cases meet all of theirs; %d cases with failed runs; %d with a wrong result" % (
        sum(1 for t in ts if t["pass"]), len(ts), above, sum(1 for r in checked if r["pass"]), len(checked),
        sum(1 for r in rows if r.get("errors")), sum(1 for r in rows if r.get("wrong"))))
    for r in rows:
        for w in r.get("wrong", []):
            print("  wrong result: %s: %s" % (r["case"], w))
    json.dump({"meta": meta, "cases": rows}, open(a[1], "w"), indent=1)
    print("wrote " + a[1])
    if any(r.get("wrong") or r.get("errors") for r in rows):
        sys.exit(1)  # a missed target is a measurement; a failed run or a wrong result is a bug


{"case": cmd_case, "mem": cmd_mem, "table": cmd_table}[sys.argv[1]](sys.argv[2:])
