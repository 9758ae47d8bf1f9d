#!/usr/bin/env python3
"""The benchmark's smoke run (N=10k): psc-bench runs every phase end to end
and writes a table, JSON and an SVG chart whose figures are all present and
plausible. Speed targets are not checked here: they live in the full run
(docs/benchmarks.md), not in timed tests."""
import json
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

EXPECTED_RATES = [
    "ingest_end_to_end", "append_raw_journal", "rebuild",
    "kafka_ingest_end_to_end", "kafka_append_raw",
    "pg_groupby_ingest", "pg_summary_ingest",
]
EXPECTED_RATIOS = [
    "ingest_over_raw", "kafka_ingest_over_raw",
    "pg_groupby_ingest_ratio", "pg_summary_ingest_ratio",
    "pg_groupby_report_ratio", "pg_summary_report_ratio",
]
EXPECTED_LATENCIES = [
    "report_grpc_idle", "report_grpc_loaded", "report_server",
    # pscd's own time per call, from its server-timing trailer.
    "report_served_idle", "report_served_loaded",
    "pg_groupby_report", "pg_summary_report",
]
EXPECTED_MEMORY = [
    "pscd_peak_rss", "gateway_peak_rss", "projection_peak_rss",
    "pg_groupby_memory", "pg_summary_memory",
]


def main():
    bench = sys.argv[1]
    extra = sys.argv[2:]
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        out_json = os.path.join(tmp, "bench.json")
        out_svg = os.path.join(tmp, "curve.svg")
        run = subprocess.run(
            [bench, "--rows", "10000", "--report-repeats", "20", "--kafka-rows", "10000",
             "--json", out_json, "--svg", out_svg] + extra,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace",
            timeout=900)
        sys.stdout.write(run.stdout)
        if run.returncode != 0:
            sys.stderr.write(run.stderr[-4000:])
            print(f"psc-bench exited {run.returncode}")
            return 1
        if "rows/s by rows per request" not in run.stdout:
            problems.append("the table has no batch-size curve")
        with open(out_json) as f:
            data = json.load(f)
        figures = {f["name"]: f for f in data["figures"]}
        # The generated programme lands near, not on, the rows asked for.
        n = figures.get("ingest_end_to_end", {}).get("n", 0)
        if not 9000 <= n <= 10000:
            problems.append(f"ingest_end_to_end over {n} rows, expected about 10,000")
        if int(data["machine"].get("cores", "0")) < 1:
            problems.append("machine.cores missing")
        for name in EXPECTED_RATES:
            f = figures.get(name)
            if f is None:
                problems.append(f"figure {name} missing")
            # The rebuild replays the main run and the under-load run: 2N.
            elif not (f["unit"] == "rows/s" and f["value"] > 0 and
                      f["n"] == (2 * n if name == "rebuild" else n)):
                problems.append(f"figure {name}: {f}")
        for name in EXPECTED_RATIOS:
            f = figures.get(name)
            # Plausible, not a target: pscd is several times PostgreSQL's
            # ingest, and report ratios span orders of magnitude.
            if f is None or not 0 < f["value"] < 10000:
                problems.append(f"ratio {name}: {f}")
        for name in EXPECTED_LATENCIES:
            for q in ("_p50", "_p99"):
                f = figures.get(name + q)
                if f is None or not (f["unit"] == "ms" and f["value"] > 0):
                    problems.append(f"latency {name}{q}: {f}")
            if name + "_p50" in figures and name + "_p99" in figures and \
                    figures[name + "_p50"]["value"] > figures[name + "_p99"]["value"]:
                problems.append(f"{name}: p50 above p99")
        for name in EXPECTED_MEMORY:
            f = figures.get(name)
            if f is None or not (f["unit"] == "MiB" and 1 < f["value"] < 4096):
                problems.append(f"memory {name}: {f}")
        for name, f in figures.items():
            if f.get("params") is None:
                problems.append(f"figure {name} has no parameters")
        curve = data["curve"]
        batches = sorted({p["batch"] for p in curve})
        if batches != [1, 100, 1000, 10000]:
            problems.append(f"curve batch sizes {batches}")
        if any(p["rows_per_second"] <= 0 for p in curve):
            problems.append("a curve point without a rate")
        svg = ET.parse(out_svg).getroot()
        ns = "{http://www.w3.org/2000/svg}"
        lines = svg.findall(f".//{ns}polyline")
        if len(lines) < 2:
            problems.append(f"the chart has {len(lines)} lines, expected one per series")
    for p in problems:
        print("problem:", p)
    print("ok" if not problems else f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
