"""Prints one line of a Lighthouse JSON report (scripts/bench, section 10): the performance and
accessibility scores, the timings the dashboard issue names, the bytes transferred, and the
accessibility audits that failed.

    python3 benches/lighthouse.py REPORT.json LABEL
"""
import json
import sys

report = json.load(open(sys.argv[1]))
categories, audits = report["categories"], report["audits"]


def shown(audit):
    return audits[audit].get("displayValue", "?").replace("\u00a0", " ")


failed = [
    key
    for key, audit in audits.items()
    if audit.get("scoreDisplayMode") == "binary" and audit.get("score") == 0
]
print(
    f"    {sys.argv[2]:<10} performance {round(categories['performance']['score'] * 100):>3}"
    f"  accessibility {round(categories['accessibility']['score'] * 100):>3}"
    f"  FCP {shown('first-contentful-paint')}  LCP {shown('largest-contentful-paint')}"
    f"  TTI {shown('interactive')}  TBT {shown('total-blocking-time')}"
    f"  transferred {audits['total-byte-weight']['numericValue'] / 1024:.0f} KiB"
    + (f"  failing: {', '.join(failed)}" if failed else "")
)
