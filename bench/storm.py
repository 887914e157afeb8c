#!/usr/bin/env python3
"""Alert storm: 50,000 alerts over 100 dedup keys, with one unrelated critical alert mid-storm.

Run: cargo build --release && python3 bench/storm.py [--alerts 50000] [--keys 100] [--senders 16]

Starts `tocsin serve` (release build, rate limit off) on a fresh SQLite file with the example
organisation, integration keys for checkout-api (the storm) and catalog-api (the unrelated
alert), and every person given a webhook contact method pointing at a receiver in this script.
--senders threads post the storm's alerts (one per request, keys cycling over --keys) to
/ingest/generic; when half are sent, one new critical alert goes to catalog-api. Reports: storm
duration and rate, pages received (storm and total), time from the unrelated alert's POST to
its page, and the server's peak RSS (VmHWM from /proc). Needs the outbox deliverer.
"""
import argparse, http.client, json, os, sys, tempfile, threading, time

from ingest import prepare_tocsin, rss_mb, start_tocsin, stop
from paging import Receiver, page_everyone


def sender(port, key, indices, keys, run, errors):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    for i in indices:
        k = i % keys
        body = json.dumps({"summary": f"storm {run} key {k}", "severity": "critical", "dedup_key": f"storm-{run}-{k}",
                           "details": {"n": i}})
        conn.request("POST", "/ingest/generic", body, headers)
        r = conn.getresponse(); r.read()
        if r.status != 200:
            errors.append(r.status)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "release", "tocsin"))
    ap.add_argument("--alerts", type=int, default=50_000)
    ap.add_argument("--keys", type=int, default=100)
    ap.add_argument("--senders", type=int, default=16)
    a = ap.parse_args()
    receiver = Receiver()
    run = os.urandom(4).hex()
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "storm.db")
        storm_key = prepare_tocsin(a.bin, f"sqlite://{db}", kind="generic")
        other_key = prepare_tocsin(a.bin, f"sqlite://{db}", kind="generic", service="catalog-api", apply=False)
        page_everyone(db, receiver.url())
        proc, port = start_tocsin(a.bin, f"sqlite://{db}", tmp, 0)
        try:
            half, rest = list(range(a.alerts // 2)), list(range(a.alerts // 2, a.alerts))
            errors = []
            t_start = time.perf_counter()
            for part in (half, rest):
                threads = [threading.Thread(target=sender, args=(port, storm_key, part[n::a.senders], a.keys, run, errors))
                           for n in range(a.senders)]
                for t in threads: t.start()
                if part is rest:
                    # Mid-storm: the second half is under way when the unrelated alert arrives.
                    time.sleep(0.5)
                    unrelated = f"unrelated {run}: catalog-api down"
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                    t_unrelated = time.perf_counter()
                    conn.request("POST", "/ingest/generic", json.dumps({"summary": unrelated, "severity": "critical"}),
                                 {"Authorization": f"Bearer {other_key}", "Content-Type": "application/json"})
                    status = conn.getresponse().status
                    paged = receiver.wait_for([unrelated], timeout=60)
                    t_paged = receiver.first.get(unrelated)
                for t in threads: t.join()
            storm_secs = time.perf_counter() - t_start
            receiver.wait_for([f"storm {run} key {k}" for k in range(a.keys)], timeout=60)
            time.sleep(2)
            rss = rss_mb(proc.pid)
            storm_pages = sum(1 for s in receiver.first if s.startswith(f"storm {run}"))
            print(f"storm: {a.alerts} alerts over {a.keys} keys in {storm_secs:.1f} s ({a.alerts / storm_secs:.0f}/s), non-2xx: {len(errors)}")
            print(f"storm alerts paged: {storm_pages} of {a.keys}; page deliveries received in all: {receiver.deliveries}")
            if status == 200 and paged:
                print(f"unrelated critical alert: POST -> page {(t_paged - t_unrelated) * 1000:.0f} ms")
            else:
                print(f"unrelated critical alert: status {status}, page {'arrived' if paged else 'NOT received in 60 s'}")
            print(f"server peak RSS: {rss:.0f} MB")
            return 0 if paged and not errors else 1
        finally:
            stop(proc)
            receiver.close()


if __name__ == "__main__":
    sys.exit(main())
