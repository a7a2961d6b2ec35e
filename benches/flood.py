"""Section 9 of scripts/bench: 20 clients each sending 10 MB NDJSON bodies with an unknown token
for SECONDS, while one real writer POSTs single records with a valid token. Prints the server's
peak RSS above idle (sampled from /proc every 20 ms) and the writer's latencies.

Usage: flood.py PORT SERVER_PID TOKEN SECONDS"""
import http.client
import statistics
import sys
import threading
import time

port, pid, token, seconds = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
BODY = (b'{"type":"edge","from":{"source":"a","id":"1"},"to":{"source":"a","id":"2"}}\n' * 140_000)[: 10 * 1024 * 1024]


def rss_kb():
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


idle = rss_kb()
peak = idle
stop = time.monotonic() + seconds
floods = {"sent": 0, "401": 0, "other": 0, "cut": 0}
lock = threading.Lock()


def sample():
    global peak
    while time.monotonic() < stop:
        peak = max(peak, rss_kb())
        time.sleep(0.02)


def flood():
    while time.monotonic() < stop:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request("POST", "/api/v1/records", body=BODY, headers={
                "Authorization": "Bearer mgv_flood-unknown", "Content-Type": "application/x-ndjson"})
            status = connection.getresponse().status
            with lock:
                floods["sent"] += 1
                floods["401" if status == 401 else "other"] += 1
        except OSError:
            # The server answered before taking the whole body and closed the connection.
            try:
                status = connection.getresponse().status
            except (OSError, http.client.HTTPException):
                status = None
            with lock:
                floods["sent"] += 1
                floods["cut"] += 1
                if status is not None:
                    floods["401" if status == 401 else "other"] += 1
        finally:
            connection.close()


latencies = []


def writer():
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    n = 0
    while time.monotonic() < stop:
        n += 1
        record = f'{{"type":"asset","source":"flood-writer","id":"m{n}-{time.time_ns()}","kind":"model_source","name":"writer {n}"}}'
        started = time.perf_counter()
        connection.request("POST", "/api/v1/records", body=record, headers={
            "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        latencies.append((time.perf_counter() - started) * 1000)
        if response.status != 200:
            print(f"    the writer got {response.status}", file=sys.stderr)
        time.sleep(0.01)


threads = [threading.Thread(target=sample), threading.Thread(target=writer)]
threads += [threading.Thread(target=flood) for _ in range(20)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
latencies.sort()
p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
print(f"    flood: {floods['sent']} bodies of 10 MB from 20 clients in {seconds:.0f}s "
      f"({floods['cut']} cut off unread; answers read: {floods['401']} of 401, {floods['other']} other)")
print(f"    server RSS: idle {idle / 1024:.0f} MB, peak {peak / 1024:.0f} MB, {(peak - idle) / 1024:.0f} MB above idle")
print(f"    real writer during the flood: {len(latencies)} single-record POSTs, "
      f"p50 {statistics.median(latencies):.1f} ms, p99 {p(0.99):.1f} ms, max {latencies[-1]:.1f} ms")
