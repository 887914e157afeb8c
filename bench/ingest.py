#!/usr/bin/env python3
"""Durable ingestion throughput and latency: Tocsin against Prometheus Alertmanager 0.25.

Run: cargo build --release && python3 bench/ingest.py [--postgres postgres://postgres@127.0.0.1:5432/postgres]

Starts the real Alertmanager (in memory, `POST /api/v2/alerts`) and `tocsin serve` (release
build) on a fresh SQLite file with the example organisation and an `alertmanager_api`
integration key, and, with --postgres, again on a fresh PostgreSQL database. Each server is
started, polled until ready, then driven alone by the same load generator (wrk, the same Lua
script, the same ~1 KB bodies in Alertmanager's own API format):
  unique  every request is a new alert (a new `id` label)
  dedup   every request is the same alert (a dedup hit after the first)
For Tocsin, alerts/s counts the rows committed in the database (not the replies), and the
mean batch size comes from its /metrics. Tocsin's per-integration rate limit is switched off
for the run (ingest_events_per_minute = 0): this measures the writer, not the limiter.
Prints a Markdown table with the ratio Tocsin / Alertmanager per case. TOCSIN_BENCH_EXAMPLES
names another folder of catalog YAML (default: examples/ecommerce).
"""
import argparse, json, os, re, secrets, signal, socket, subprocess, sys, tempfile, time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close(); return port


def wait_ready(url, proc, timeout=30):
    start = time.time()
    while time.time() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before {url} was ready")
        try:
            with urllib.request.urlopen(url, timeout=0.5) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} not ready in {timeout} s")


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill(); proc.wait()


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def prepare_tocsin(binary, db_url, kind="alertmanager_api", service="checkout-api", apply=True):
    """Example organisation and a `kind` integration key for `service`; returns the key."""
    folder = os.environ.get("TOCSIN_BENCH_EXAMPLES", os.path.join(ROOT, "examples/ecommerce"))
    examples = sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".yaml"))
    if apply:
        subprocess.run([binary, "apply", "--database-url", db_url, *examples], check=True,
                       stdout=subprocess.DEVNULL)
    out = subprocess.run([binary, "integration", "create", "--database-url", db_url, "--service",
                          service, "--type", kind], check=True,
                         capture_output=True, text=True).stdout
    return out.strip().splitlines()[-1].strip()


def start_tocsin(binary, db_url, tmp, writers, extra=""):
    port = free_port()
    conf = os.path.join(tmp, f"tocsin-{port}.toml")
    with open(conf, "w") as f:
        f.write(f"ingest_events_per_minute = 0\ningest_writers = {writers}\n{extra}")
    log = open(os.path.join(tmp, f"tocsin-{port}.log"), "w")
    proc = subprocess.Popen([binary, "serve", "--listen", f"127.0.0.1:{port}", "--database-url",
                             db_url, "--config", conf], stdout=log, stderr=log,
                            env={**os.environ, "RUST_LOG": "warn"})
    wait_ready(f"http://127.0.0.1:{port}/readyz", proc)
    return proc, port


def start_alertmanager(binary, tmp):
    port = free_port()
    conf = os.path.join(tmp, "alertmanager.yml")
    with open(conf, "w") as f:
        f.write('route:\n  receiver: "null"\nreceivers:\n  - name: "null"\n')
    storage = os.path.join(tmp, f"am-{port}")
    os.makedirs(storage, exist_ok=True)
    log = open(os.path.join(tmp, "alertmanager.log"), "w")
    proc = subprocess.Popen([binary, f"--config.file={conf}", f"--storage.path={storage}",
                             f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
                            stdout=log, stderr=log)
    wait_ready(f"http://127.0.0.1:{port}/-/ready", proc)
    return proc, port


def wrk(port, mode, key, args, seconds):
    run = secrets.token_hex(4)
    cmd = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds}s",
           "-s", os.path.join(HERE, "ingest.lua"), f"http://127.0.0.1:{port}", "--", mode, run, key]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    m = re.search(r"^RESULT (\{.*\})$", out, re.M)
    if not m:
        raise RuntimeError(f"no RESULT from wrk:\n{out}")
    return json.loads(m.group(1))


def count_alerts(db_url):
    if db_url.startswith("sqlite://"):
        out = subprocess.run(["sqlite3", db_url[len("sqlite://"):], "select count(*) from alerts"],
                             check=True, capture_output=True, text=True).stdout
    else:
        out = subprocess.run(["psql", "-tA", db_url, "-c", "select count(*) from alerts"],
                             check=True, capture_output=True, text=True).stdout
    return int(out.strip())


def mean_batch(port):
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    total = re.search(r"^tocsin_ingest_batch_events_sum (\S+)$", text, re.M)
    count = re.search(r"^tocsin_ingest_batch_events_count (\S+)$", text, re.M)
    if not total or not count or float(count.group(1)) == 0:
        return float("nan")
    return float(total.group(1)) / float(count.group(1))


def row(target, case, r, alerts=None, batch=None, rss=None):
    secs = r["duration_us"] / 1e6
    ok = r["requests"] - r["non2xx"]
    return {"target": target, "case": case, "req_s": r["requests"] / secs,
            "alerts_s": (alerts if alerts is not None else ok) / secs,
            "p50_ms": r["p50_us"] / 1000, "p99_ms": r["p99_us"] / 1000, "errors": r["errors"],
            "batch": batch, "rss": rss}


def bench_alertmanager(args, tmp):
    proc, port = start_alertmanager(args.alertmanager, tmp)
    try:
        wrk(port, "unique", "", args, args.warmup)
        rows = [row("Alertmanager 0.25 (memory)", "unique", wrk(port, "unique", "", args, args.duration))]
        rows.append(row("Alertmanager 0.25 (memory)", "dedup", wrk(port, "dedup", "", args, args.duration)))
        rows[-1]["rss"] = rss_mb(proc.pid)
        return rows
    finally:
        stop(proc)


def bench_tocsin(args, tmp, label, db_url, writers):
    key = prepare_tocsin(args.bin, db_url)
    proc, port = start_tocsin(args.bin, db_url, tmp, writers)
    try:
        wrk(port, "unique", key, args, args.warmup)
        before = count_alerts(db_url)
        r = wrk(port, "unique", key, args, args.duration)
        committed = count_alerts(db_url) - before
        rows = [row(label, "unique", r, alerts=committed, batch=mean_batch(port))]
        rows.append(row(label, "dedup", wrk(port, "dedup", key, args, args.duration),
                        batch=mean_batch(port), rss=rss_mb(proc.pid)))
        return rows
    finally:
        stop(proc)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "release", "tocsin"))
    ap.add_argument("--alertmanager", default="/usr/bin/prometheus-alertmanager")
    ap.add_argument("--postgres", help="a PostgreSQL server URL; a fresh database is made on it")
    ap.add_argument("--pg-writers", default="0", help="comma-separated writer counts to try on PostgreSQL (0 = default)")
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--connections", type=int, default=64)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows += bench_alertmanager(args, tmp)
        rows += bench_tocsin(args, tmp, "Tocsin, SQLite (WAL, synchronous=NORMAL)", f"sqlite://{tmp}/bench.db", 0)
        if args.postgres:
            for writers in args.pg_writers.split(","):
                name = f"tocsin_bench_{secrets.token_hex(4)}"
                subprocess.run(["psql", "-q", args.postgres, "-c", f"create database {name}"], check=True)
                url = re.sub(r"/[^/]*$", f"/{name}", args.postgres)
                label = "Tocsin, PostgreSQL (synchronous_commit=on)" + (f", {writers} writers" if writers != "0" else "")
                try:
                    rows += bench_tocsin(args, tmp, label, url, int(writers))
                finally:
                    subprocess.run(["psql", "-q", args.postgres, "-c", f"drop database if exists {name} with (force)"])
    am = {r["case"]: r for r in rows if r["target"].startswith("Alertmanager")}
    print(f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s, one ~1 KB alert per POST /api/v2/alerts\n")
    print("| server | case | req/s | alerts stored/s | p50 ms | p99 ms | errors | mean batch | peak RSS MB | alerts/s vs Alertmanager |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        ratio = r["alerts_s"] / am[r["case"]]["alerts_s"]
        fmt = lambda v, f: "" if v is None else f.format(v)
        print(f"| {r['target']} | {r['case']} | {r['req_s']:.0f} | {r['alerts_s']:.0f} | {r['p50_ms']:.2f} | "
              f"{r['p99_ms']:.2f} | {r['errors']} | {fmt(r['batch'], '{:.1f}')} | {fmt(r['rss'], '{:.0f}')} | {ratio:.2f}x |")


if __name__ == "__main__":
    sys.exit(main())
