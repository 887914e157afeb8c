"""Shared by bench/latency.py and bench/storm.py: a Tocsin whose people are paged through a
generic-webhook contact method pointing at a receiver in this process, which records when
each page arrives (first delivery per alert summary, and every delivery)."""
import json, subprocess, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ingest import free_port


class Receiver:
    """An HTTP server on a loopback port recording (arrival time, summary) of every page."""

    def __init__(self):
        self.lock = threading.Lock()
        self.first = {}       # summary -> perf_counter of the first delivery
        self.deliveries = 0
        self.arrived = threading.Condition(self.lock)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                now = time.perf_counter()
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    summary = json.loads(body)["alert"]["summary"]
                except (ValueError, KeyError, TypeError):
                    summary = None
                with receiver.lock:
                    receiver.deliveries += 1
                    if summary is not None and summary not in receiver.first:
                        receiver.first[summary] = now
                    receiver.arrived.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self):
        return f"http://127.0.0.1:{self.port}/page"

    def wait_for(self, summaries, timeout):
        """Waits until every summary has arrived or `timeout` seconds passed."""
        deadline = time.perf_counter() + timeout
        with self.lock:
            while not all(s in self.first for s in summaries):
                left = deadline - time.perf_counter()
                if left <= 0:
                    return False
                self.arrived.wait(left)
        return True

    def close(self):
        self.server.shutdown()


def page_everyone(db_path, url):
    """Gives every person of the example organisation a webhook contact method at `url` and a
    rule to use it at once. (The contact CLI is not built yet: straight into the SQLite file.)"""
    sql = f"""
insert into contact_methods (id, person_id, kind, target, secret, created_at)
  select 'bench-' || id, id, 'webhook', '{url}', 'bench-secret', 0 from people;
insert into notification_rules (id, person_id, contact_method_id, delay_minutes)
  select 'bench-rule-' || id, id, 'bench-' || id, 0 from people;
"""
    subprocess.run(["sqlite3", db_path], input=sql, text=True, check=True)


def percentile(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))] if v else float("nan")
