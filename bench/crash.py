#!/usr/bin/env python3
"""Crash test of ingestion and paging (reliability.md T1, with the T5 duplicate rate).

Sends alerts from N concurrent senders to `POST /ingest/generic` while `tocsin serve` is
killed with SIGKILL at random moments and restarted, M times. Then it lets the engine drain
and checks, from the database and from a webhook receiver this script runs:

  * every alert that got a 2xx exists, exactly once (0 missing, 0 duplicated);
  * no (service, dedup_key) has two open alerts;
  * every escalation page that fell due was recorded once (each alert pages p1 and p2 at
    once and p3 a minute later: two `page` steps in its log);
  * when a deliverer is wired: every outbox row reached the receiver, and how many arrived
    twice (the one unavoidable window: receiver accepted, `sent` not yet written);
  * `PRAGMA integrity_check` (SQLite);
  * restart to `/readyz` 200, p50/p99.

It exits 1 when an invariant fails. Python 3.11 standard library only, plus the `psql`
client for `--postgres`. It builds nothing: pass the binary with `--bin`.

    cargo build --release
    python3 bench/crash.py --bin "$CARGO_TARGET_DIR/release/tocsin" --cycles 50
    python3 bench/crash.py --bin ... --postgres postgres://postgres@127.0.0.1:5432/postgres
    python3 bench/crash.py --bin ... --services 400 --rate 10   # duplicate rate, unbundled
"""

import argparse
import json
import os
import random
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Two people paged at once, a third a minute later; no repeat. One minute is the smallest
# step a policy allows, so the drain waits at least that long after the last alert.
CATALOG = """\
tiers:
  - {level: 0, name: Tier 0, description: Critical}
domains:
  - {id: core, name: Core, description: Core}
teams:
  - {id: ops, name: Ops, description: Ops, escalation_policy: crash}
people:
  - {id: p1, name: Pat One, email: p1@example.com, time_zone: UTC, title: SRE, teams: [ops]}
  - {id: p2, name: Pat Two, email: p2@example.com, time_zone: UTC, title: SRE, teams: [ops]}
  - {id: p3, name: Pat Three, email: p3@example.com, time_zone: UTC, title: SRE, teams: [ops]}
escalation_policies:
  - id: crash
    name: Crash test
    description: Two people at once, a third after a minute.
    levels:
      - targets: [{person: p1}, {person: p2}]
        escalate_after_minutes: 1
      - targets: [{person: p3}]
        escalate_after_minutes: 1
    repeat: 0
services:
"""
SERVICE = """\
  - id: {id}
    name: Service {id}
    description: A service under test.
    type: rest-api
    stateful: false
    owner_team: ops
    tier: 0
    domain: core
"""


def service_ids(n):
    """`api` alone, or api-0 … api-(n-1): alerts spread over many services are paged one
    message each, where one service's storm is folded into bundles by the throttle."""
    return ["api"] if n == 1 else [f"api-{i}" for i in range(n)]
PEOPLE = ("p1", "p2", "p3")
# The levels every alert pages (p1 and p2, then p3).
EXPECTED_LEVELS = (0, 1)
ESCALATION_SPAN_S = 60


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Database:
    """The database under test, read with sqlite3 or psql (never through Tocsin)."""

    def __init__(self, workdir, postgres):
        self.postgres = postgres
        if postgres:
            name = f"tocsin_crash_{os.getpid()}_{int(time.time())}"
            subprocess.run(["psql", postgres, "-qAtc", f"create database {name}"], check=True)
            parts = urllib.parse.urlsplit(postgres)
            self.url = urllib.parse.urlunsplit(parts._replace(path="/" + name))
            self.name = name
        else:
            self.path = os.path.join(workdir, "tocsin.db")
            self.url = f"sqlite://{self.path}"

    def query(self, sql):
        if self.postgres:
            out = subprocess.run(
                ["psql", self.url, "-qAtF", "\t", "-c", sql],
                check=True, capture_output=True, text=True,
            ).stdout
            return [tuple(line.split("\t")) for line in out.splitlines() if line]
        con = sqlite3.connect(self.path, timeout=30)
        try:
            return [tuple(str(v) for v in r) for r in con.execute(sql).fetchall()]
        finally:
            con.close()

    def execute(self, sql):
        if self.postgres:
            subprocess.run(["psql", self.url, "-qAtc", sql], check=True)
            return
        con = sqlite3.connect(self.path, timeout=30)
        try:
            con.execute(sql)
            con.commit()
        finally:
            con.close()

    def drop(self):
        if self.postgres:
            subprocess.run(["psql", self.postgres, "-qAtc", f"drop database {self.name}"])


class Receiver:
    """A webhook receiver: records every delivery's Idempotency-Key and body."""

    def __init__(self):
        self.lock = threading.Lock()
        self.deliveries = []  # (path, idempotency key, body)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                key = self.headers.get("Idempotency-Key") or ""
                with receiver.lock:
                    receiver.deliveries.append((self.path, key, body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def snapshot(self):
        with self.lock:
            return list(self.deliveries)


class Server:
    """`tocsin serve` on a fixed port, started and SIGKILLed at will."""

    def __init__(self, binary, url, port, log):
        self.binary, self.url, self.port, self.log = binary, url, port, log
        self.proc = None

    def start(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("TOCSIN_")}
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--database-url", self.url,
             "--listen", f"127.0.0.1:{self.port}"],
            stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL, env=env,
        )
        return time.monotonic()

    def wait_ready(self, started, timeout=60):
        """Seconds from spawn to the first /readyz 200."""
        while time.monotonic() - started < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"tocsin serve exited with {self.proc.returncode}")
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{self.port}/readyz", timeout=2
                ) as r:
                    if r.status == 200:
                        return time.monotonic() - started
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.01)
        raise RuntimeError("tocsin serve not ready within 60 s")

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()


def sender(idx, port, keys, stop, acked, stats, lock, interval):
    """Posts alerts with unique dedup keys, round-robin over the services' integration
    `keys`; retries the same key to the same service until a 2xx, as a real sender would, so
    a request committed just before a kill is retried into a dedup. Starts a new alert every
    `interval` seconds at most (0: as fast as the server answers)."""
    n = 0
    url = f"http://127.0.0.1:{port}/ingest/generic"
    next_at = time.monotonic()
    while not stop.is_set():
        next_at += interval
        time.sleep(max(0.0, next_at - time.monotonic()))
        dedup = f"s{idx}-{n}"
        key = keys[(idx + n * 7919) % len(keys)]
        body = json.dumps({"summary": f"crash test {dedup}", "dedup_key": dedup}).encode()
        while not stop.is_set():
            req = urllib.request.Request(url, data=body, method="POST", headers={
                "Authorization": f"Bearer {key}", "Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=10) as r:
                    if 200 <= r.status < 300:
                        with lock:
                            acked.add(dedup)
                        break
            except urllib.error.HTTPError as e:
                with lock:
                    stats["http_errors"][e.code] = stats["http_errors"].get(e.code, 0) + 1
                if e.code < 500:
                    break
            except (urllib.error.URLError, OSError):
                with lock:
                    stats["conn_errors"] += 1
                time.sleep(0.02)
        n += 1


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] if xs else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True, help="the tocsin binary (release build)")
    ap.add_argument("--postgres", help="server URL; a fresh database is created on it")
    ap.add_argument("--senders", type=int, default=20)
    ap.add_argument("--cycles", type=int, default=50)
    # The engine steps at most 100 escalations a second (engine::BATCH per 1 s tick) and
    # each alert takes two steps here; faster ingestion builds a backlog the drain must wait
    # out. 0 = unthrottled.
    ap.add_argument("--rate", type=float, default=30, help="alerts/s over all senders")
    ap.add_argument("--max-up", type=float, default=1.5, help="longest life before a kill, s")
    ap.add_argument("--services", type=int, default=1,
                    help="spread alerts over this many services (1: all on one)")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--drain-timeout", type=float, default=600)
    ap.add_argument("--keep", action="store_true", help="keep the work dir and database")
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 32)
    rng = random.Random(seed)
    workdir = tempfile.mkdtemp(prefix="tocsin-crash-")
    db = Database(workdir, args.postgres)
    print(f"seed {seed}, backend {'postgres' if args.postgres else 'sqlite'}, workdir {workdir}")

    tocsin_env = {k: v for k, v in os.environ.items() if not k.startswith("TOCSIN_")}
    catalog = os.path.join(workdir, "catalog.yaml")
    with open(catalog, "w") as f:
        f.write(CATALOG + "".join(SERVICE.format(id=i) for i in service_ids(args.services)))
    subprocess.run([args.bin, "apply", "--database-url", db.url, catalog],
                   check=True, capture_output=True, env=tocsin_env)
    keys = []
    for service in service_ids(args.services):
        out = subprocess.run(
            [args.bin, "integration", "--database-url", db.url, "create", "--service",
             service, "--type", "generic"],
            check=True, capture_output=True, text=True, env=tocsin_env)
        keys.append(next(ln for ln in out.stdout.splitlines() if ln.startswith("tcn_")))

    receiver = Receiver()
    # No contact-method CLI yet: the rows go in directly, one webhook and one immediate rule
    # per person.
    for p in PEOPLE:
        target = f"http://127.0.0.1:{receiver.port}/hook/{p}"
        db.execute("insert into contact_methods (id, person_id, kind, target, secret, "
                   f"created_at) values ('cm-{p}', '{p}', 'webhook', '{target}', "
                   f"'secret-{p}', 0)")
        db.execute("insert into notification_rules (id, person_id, contact_method_id, "
                   f"delay_minutes) values ('nr-{p}', '{p}', 'cm-{p}', 0)")

    port = free_port()
    log = open(os.path.join(workdir, "serve.log"), "ab")
    server = Server(args.bin, db.url, port, log)
    stop, lock = threading.Event(), threading.Lock()
    acked, stats = set(), {"http_errors": {}, "conn_errors": 0}
    interval = args.senders / args.rate if args.rate > 0 else 0.0
    threads = [threading.Thread(target=sender,
                                args=(i, port, keys, stop, acked, stats, lock, interval))
               for i in range(args.senders)]
    ready_times, early_kills = [], 0
    t_start = time.monotonic()
    server.wait_ready(server.start())
    for t in threads:
        t.start()
    for cycle in range(args.cycles):
        # Some kills land during start-up (migrations, pool), the rest under load.
        if rng.random() < 0.1:
            time.sleep(rng.uniform(0, 0.05))
            early_kills += 1
        else:
            time.sleep(rng.uniform(0.05, args.max_up))
        server.kill()
        ready_times.append(server.wait_ready(server.start()))
        if (cycle + 1) % 10 == 0:
            print(f"  cycle {cycle + 1}/{args.cycles}: {len(acked)} alerts acknowledged",
                  flush=True)
    stop.set()
    for t in threads:
        t.join()
    run_s = time.monotonic() - t_start

    # Drain: the engine pages level 1 a minute after each alert; wait for every escalation
    # to end, then for the outbox to empty when a deliverer is wired.
    print("draining …", flush=True)
    deadline = time.monotonic() + args.drain_timeout
    while time.monotonic() < deadline:
        active = int(db.query("select count(*) from escalations where state = 'active'")[0][0])
        if active == 0:
            break
        time.sleep(1)
    sent_rows = int(db.query("select count(*) from outbox where status = 'sent'")[0][0])
    delivering = sent_rows > 0 or bool(receiver.snapshot())
    while delivering and time.monotonic() < deadline:
        pending = int(db.query("select count(*) from outbox where status = 'pending'")[0][0])
        if pending == 0:
            break
        time.sleep(1)
    drain_s = time.monotonic() - t_start - run_s
    server.kill()
    time.sleep(0.5)  # let in-flight receiver threads finish recording

    failures = []

    def check(name, value, ok):
        print(f"{name:<44} {value}{'' if ok else '   <-- FAIL'}")
        if not ok:
            failures.append(name)

    rows = db.query("select dedup_key, id, status from alerts")
    per_key = {}
    for dedup, alert_id, _ in rows:
        per_key.setdefault(dedup, []).append(alert_id)
    open_dups = db.query("select service_id, dedup_key from alerts where status <> 'resolved' "
                         "group by service_id, dedup_key having count(*) > 1")
    outbox = db.query("select idempotency_key, status from outbox")
    outbox_keys = {k for k, _ in outbox}
    # Since the per-person throttle a page is a message of its own or joins a bundle, so
    # pages are counted where each engine step records them: one `page` log entry per level.
    paged = dict(db.query("select alert_id, count(*) from alert_log where kind = 'page' "
                          "group by alert_id"))
    expected_steps = len(EXPECTED_LEVELS) * sum(len(ids) for ids in per_key.values())
    missing_steps = sum(max(0, len(EXPECTED_LEVELS) - int(paged.get(a, 0)))
                        for ids in per_key.values() for a in ids)
    extra_steps = sum(max(0, int(n) - len(EXPECTED_LEVELS)) for n in paged.values())
    active = int(db.query("select count(*) from escalations where state = 'active'")[0][0])

    print(f"\nrun: {run_s:.0f} s, {args.cycles} kill/restart cycles ({early_kills} during "
          f"start-up), {args.senders} senders at {args.rate or 'unlimited'} alerts/s over "
          f"{args.services} service(s), "
          f"seed {seed}; drain {drain_s:.0f} s")
    print(f"sender connection errors (server down): {stats['conn_errors']}, "
          f"HTTP errors: {stats['http_errors'] or 0}")
    check("alerts acknowledged (2xx)", len(acked), len(acked) > 0)
    check("alerts in the database", len(rows), True)
    check("acknowledged alerts missing", len(acked - per_key.keys()), not acked - per_key.keys())
    dup_keys = sum(1 for ids in per_key.values() if len(ids) > 1)
    check("dedup keys stored more than once", dup_keys, dup_keys == 0)
    check("open duplicates per (service, dedup_key)", len(open_dups), not open_dups)
    check("escalations still active after drain", active, active == 0)
    check("page steps due (2 levels per alert)", expected_steps, True)
    check("page steps missing", missing_steps, missing_steps == 0)
    check("page steps recorded twice", extra_steps, extra_steps == 0)
    check("outbox rows (messages and bundles)", len(outbox), True)
    if delivering:
        got = receiver.snapshot()
        keys = [k for _, k, _ in got]
        distinct = set(keys)
        statuses = {}
        for _, s in outbox:
            statuses[s] = statuses.get(s, 0) + 1
        check("outbox rows by status", statuses, set(statuses) == {"sent"})
        check("deliveries received", len(keys), True)
        check("distinct idempotency keys received", len(distinct), True)
        check("outbox rows never delivered", len(outbox_keys - distinct),
              not outbox_keys - distinct)
        dups = len(keys) - len(distinct)
        rate = dups / len(distinct) if distinct else 0.0
        check("duplicate deliveries (rate)", f"{dups} ({rate:.4%})", True)
    else:
        print("deliveries: none (no deliverer wired in `tocsin serve`; outbox rows pending)")
    if not args.postgres:
        ic = db.query("pragma integrity_check")
        check("PRAGMA integrity_check", ic[0][0], ic == [("ok",)])
    check("restart to /readyz 200, p50 / p99 / max (s)",
          f"{percentile(ready_times, 50):.3f} / {percentile(ready_times, 99):.3f} / "
          f"{max(ready_times):.3f}", percentile(ready_times, 99) <= 5)

    log.close()
    if not args.keep:
        db.drop()
    print("\nFAILED: " + ", ".join(failures) if failures else "\nall invariants hold")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
