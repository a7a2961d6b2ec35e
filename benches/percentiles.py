"""Reads pgbench per-transaction logs (-l) and prints count, p50, p99 and max latency in ms."""
import glob
import sys

latencies = []
for path in glob.glob(sys.argv[1] + "*"):
    with open(path) as log:
        for line in log:
            fields = line.split()
            if len(fields) >= 3:
                latencies.append(int(fields[2]) / 1000.0)
latencies.sort()
if not latencies:
    sys.exit("no transactions logged")
pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
print(f"{len(latencies)} walks, p50 {pick(0.50):.2f} ms, p99 {pick(0.99):.2f} ms, max {latencies[-1]:.2f} ms")
