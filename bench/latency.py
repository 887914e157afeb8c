#!/usr/bin/env python3
"""Alert received -> first notification attempt: p50/p99 (target p99 < 100 ms).

Run: cargo build --release && python3 bench/latency.py [--alerts 200] [--gap-ms 50]

Starts `tocsin serve` (release build) on a fresh SQLite file with the example organisation,
a generic integration key for checkout-api, and every person given a webhook contact method
pointing at a receiver in this script. Then posts --alerts new critical alerts one at a time,
--gap-ms apart, each with its own summary; the latency of an alert is from just before its
POST to the arrival of its first page at the receiver (both on this machine's monotonic
clock). Needs the outbox deliverer wired into `tocsin serve`.
"""
import argparse, http.client, json, os, sys, tempfile, time

from ingest import prepare_tocsin, start_tocsin, stop
from paging import Receiver, page_everyone, percentile


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "release", "tocsin"))
    ap.add_argument("--alerts", type=int, default=200)
    ap.add_argument("--gap-ms", type=float, default=50)
    a = ap.parse_args()
    receiver = Receiver()
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "latency.db")
        key = prepare_tocsin(a.bin, f"sqlite://{db}", kind="generic")
        page_everyone(db, receiver.url())
        proc, port = start_tocsin(a.bin, f"sqlite://{db}", tmp, 0)
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            sent, replies = {}, []
            run = os.urandom(4).hex()
            for i in range(a.alerts):
                summary = f"latency {run} #{i}"
                body = json.dumps({"summary": summary, "severity": "critical", "dedup_key": f"{run}-{i}"})
                t0 = time.perf_counter()
                conn.request("POST", "/ingest/generic", body, {"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
                r = conn.getresponse(); r.read()
                replies.append(time.perf_counter() - t0)
                if r.status != 200:
                    raise RuntimeError(f"ingest answered {r.status}")
                sent[summary] = t0
                # Resolve it once paged: the throttle bundles a person's pages about a service
                # only while earlier ones are still open, and this measures single pages.
                receiver.wait_for([summary], timeout=10)
                resolve = json.dumps({"action": "resolve", "dedup_key": f"{run}-{i}"})
                conn.request("POST", "/ingest/generic", resolve, {"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
                conn.getresponse().read()
                time.sleep(a.gap_ms / 1000)
            complete = receiver.wait_for(list(sent), timeout=30)
            lat = [(receiver.first[s] - t) * 1000 for s, t in sent.items() if s in receiver.first]
            print(f"alerts sent: {len(sent)}, paged: {len(lat)}{'' if complete else ' (some never arrived in 30 s)'}")
            print(f"ingest reply: p50 {percentile(replies, 50) * 1000:.2f} ms, p99 {percentile(replies, 99) * 1000:.2f} ms")
            print(f"received -> first page: p50 {percentile(lat, 50):.1f} ms, p99 {percentile(lat, 99):.1f} ms, max {max(lat, default=float('nan')):.1f} ms")
            return 0 if complete else 1
        finally:
            stop(proc)
            receiver.close()


if __name__ == "__main__":
    sys.exit(main())
