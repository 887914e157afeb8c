#!/usr/bin/env python3
"""Cold start of `tocsin serve` to the first /readyz 200, and idle RSS after start.

Run: cargo build --release && python3 bench/startup.py [--runs 20] [--bin PATH]
Each run starts the binary on a free loopback port, polls /readyz every 1 ms until it answers
200, records the time from spawn, reads VmRSS from /proc after a 1 s idle pause, and stops the
server with SIGTERM. Half the runs use a fresh SQLite file (migrations run at start), half an
existing database with the example organisation loaded.
"""
import argparse, http.client, os, signal, socket, statistics, subprocess, tempfile, time

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close(); return port

def ready(port):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=0.2)
        c.request("GET", "/readyz"); ok = c.getresponse().status == 200; c.close(); return ok
    except OSError:
        return False

def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")

def one_run(binary, db_url):
    port = free_port()
    start = time.perf_counter()
    p = subprocess.Popen([binary, "serve", "--listen", f"127.0.0.1:{port}", "--database-url", db_url],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not ready(port):
            if p.poll() is not None: raise RuntimeError("server exited")
            if time.perf_counter() - start > 10: raise RuntimeError("not ready in 10 s")
            time.sleep(0.001)
        elapsed = (time.perf_counter() - start) * 1000
        time.sleep(1.0)
        return elapsed, rss_mb(p.pid)
    finally:
        p.send_signal(signal.SIGTERM); p.wait(timeout=10)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--bin", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "release", "tocsin"))
    a = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    examples = [os.path.join(root, "examples/ecommerce", f) for f in sorted(os.listdir(os.path.join(root, "examples/ecommerce")))]
    with tempfile.TemporaryDirectory() as tmp:
        seeded = f"sqlite://{tmp}/seeded.db"
        subprocess.run([a.bin, "apply", "--database-url", seeded, *examples], check=True, stdout=subprocess.DEVNULL)
        for label, fresh in (("fresh database (migrations run)", True), ("existing database, example loaded", False)):
            times, rss = [], []
            for i in range(a.runs):
                url = f"sqlite://{tmp}/fresh-{i}.db" if fresh else seeded
                t, r = one_run(a.bin, url); times.append(t); rss.append(r)
            times.sort()
            print(f"{label:<36} runs={a.runs}  start-to-ready p50={statistics.median(times):6.1f} ms "
                  f"max={times[-1]:6.1f} ms  idle RSS median={statistics.median(rss):5.1f} MB max={max(rss):5.1f} MB")

if __name__ == "__main__":
    main()
