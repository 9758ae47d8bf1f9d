#!/usr/bin/env python3
"""Shows that each observe test fails when it should: runs it on a copy of
the repository's monitoring files with one deliberate mistake, and expects
it to fail naming that mistake.

usage: mutation_test.py --source-dir DIR --promtool PATH
                        (--static | --scrape --bin-dir DIR --prometheus PATH --protoc PATH)

--static: check_dashboards.py and the three promtool checks (seconds).
--scrape: scrape_test.py against the real servers (as long as that test).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
# What the copies hold: the monitoring files, the contract, and what the
# scrape test loads (the example catalogue, the protos for its gRPC calls).
COPIED = ["deploy", "docs/metrics.md", "examples", "proto"]


class Case:
    def __init__(self, name, edits, command, expect):
        self.name = name
        self.edits = edits      # [(path, old, new)]: each old must occur in path
        self.command = command  # argv builder: f(copy_dir) -> list
        self.expect = expect    # substrings the failing output must hold


def copy_tree(source_dir, dest):
    for item in COPIED:
        src, dst = os.path.join(source_dir, item), os.path.join(dest, item)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        (shutil.copytree if os.path.isdir(src) else shutil.copy)(src, dst)


def apply(dest, edits):
    for path, old, new in edits:
        full = os.path.join(dest, path)
        with open(full, encoding="utf-8") as f:
            text = f.read()
        if old not in text:
            raise SystemExit(f"mutation_test: {path} no longer contains {old!r}; update the case")
        with open(full, "w", encoding="utf-8") as f:
            f.write(text.replace(old, new, 1))


def run(case, source_dir, timeout):
    dest = tempfile.mkdtemp(prefix="psc-observe-mutation-")
    try:
        copy_tree(source_dir, dest)
        apply(dest, case.edits)
        argv = case.command(dest)
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        out = done.stdout + done.stderr
        missing = [e for e in case.expect if e not in out]
        ok = done.returncode != 0 and not missing
        print(f"{'ok  ' if ok else 'FAIL'} {case.name}: exit {done.returncode}"
              + (f", output lacks {missing}" if missing else ""))
        if not ok:
            print("    " + out[-4000:].replace("\n", "\n    "))
        return ok
    finally:
        shutil.rmtree(dest, ignore_errors=True)


def static_cases(args):
    py = [sys.executable, os.path.join(HERE, "check_dashboards.py")]
    prom = "deploy/prometheus"
    return [
        Case("dashboard: a misspelt metric",
             [("deploy/grafana/dashboards/service-health.json", "psc_projection_lag_events{", "psc_projection_lag_event{")],
             lambda d: py + [d], ["unknown metric psc_projection_lag_event"]),
        Case("dashboard: grouping by a label the metric lacks",
             [("deploy/grafana/dashboards/programme.json", "max by (topic) (psc_programme_learning_items)",
               "max by (collaborative) (psc_programme_learning_items)")],
             lambda d: py + [d], ["no series under it has the label 'collaborative'"]),
        Case("dashboard: a matcher on a label the metric lacks",
             [("deploy/grafana/dashboards/service-health.json", 'psc_readmodel_disk_bytes{job=~\\"$job\\"}',
               'psc_readmodel_disk_bytes{job=~\\"$job\\",kind=\\"sst\\"}')],
             lambda d: py + [d], ["psc_readmodel_disk_bytes has no label 'kind'"]),
        Case("dashboard: a legend naming a label the result lacks",
             [("deploy/grafana/dashboards/service-health.json", '"{{service}}/{{method}}"', '"{{service}}/{{code}}"')],
             lambda d: py + [d], ["uses label 'code', which the result does not have"]),
        Case("dashboard: a panel on another data source",
             [("deploy/grafana/dashboards/programme.json", '"uid": "prometheus"', '"uid": "prom-old"')],
             lambda d: py + [d], ["datasource {'type': 'prometheus', 'uid': 'prom-old'}"]),
        Case("alerts: a misspelt metric",
             [(f"{prom}/alerts.yml", "psc_kafka_delivery_errors_total", "psc_kafka_delivery_error_total")],
             lambda d: py + [d], ["unknown metric psc_kafka_delivery_error_total"]),
        Case("alerts: rate() of a gauge",
             [(f"{prom}/alerts.yml", "expr: psc_projection_lag_events > 1000",
               "expr: rate(psc_projection_lag_events[5m]) > 1000")],
             lambda d: py + [d], ["rate() of psc_projection_lag_events, a gauge"]),
        Case("alerts: a job prometheus.yml does not scrape",
             [(f"{prom}/alerts.yml", 'up{job=~"pscd|psc-gateway|psc-projection"}', 'up{job=~"pscd|psc-gw|psc-projection"}')],
             lambda d: py + [d], ["selects job 'psc-gw', which prometheus.yml does not scrape"]),
        Case("promtool check rules: an expression that does not parse",
             [(f"{prom}/alerts.yml", "expr: psc_projection_lag_events > 1000", "expr: psc_projection_lag_events >> 1000")],
             lambda d: [args.promtool, "check", "rules", "--lint=all", "--lint-fatal", f"{d}/{prom}/alerts.yml"],
             ["FAILED"]),
        Case("promtool check config: a malformed interval",
             [(f"{prom}/prometheus.yml", "scrape_interval: 15s", "scrape_interval: 15 seconds")],
             lambda d: [args.promtool, "check", "config", "--lint=all", "--lint-fatal", f"{d}/{prom}/prometheus.yml"],
             ["FAILED"]),
        Case("promtool test rules: a lag threshold that no longer fires",
             [(f"{prom}/alerts.yml", "expr: psc_projection_lag_events > 1000", "expr: psc_projection_lag_events > 2000")],
             lambda d: [args.promtool, "test", "rules", f"{d}/{prom}/alerts_test.yml"],
             ["FAILED", "PscProjectionLagEvents"]),
        Case("promtool test rules: a refusal spike that no longer fires",
             [(f"{prom}/alerts.yml", ") > 0.25", ") > 0.5")],
             lambda d: [args.promtool, "test", "rules", f"{d}/{prom}/alerts_test.yml"],
             ["FAILED", "PscRefusalsSpike"]),
    ]


def scrape_cases(args):
    return [
        Case("scrape: a misspelt metric in a dashboard, and an alert that fires on a healthy system",
             [("deploy/grafana/dashboards/service-health.json",
               'psc_process_resident_memory_bytes{job=~\\"$job\\"}',
               'psc_process_resident_memory_byte{job=~\\"$job\\"}'),
              ("deploy/prometheus/alerts.yml",
               "psc_process_resident_memory_bytes > 0.9 * 512 * 1024 * 1024",
               "psc_process_resident_memory_bytes > 0.9 * 512")],
             lambda d: [sys.executable, os.path.join(HERE, "scrape_test.py"), "--bin-dir", args.bin_dir,
                        "--source-dir", d, "--prometheus", args.prometheus, "--protoc", args.protoc],
             ["query: psc_process_resident_memory_byte{job=~",
              "psc-availability/PscMemoryNearBudget (must not fire on a healthy system)"]),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--promtool", default="/usr/bin/promtool")
    parser.add_argument("--prometheus", default="/usr/bin/prometheus")
    parser.add_argument("--bin-dir")
    parser.add_argument("--protoc", default="protoc")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--static", action="store_true")
    mode.add_argument("--scrape", action="store_true")
    args = parser.parse_args()
    source_dir = os.path.abspath(args.source_dir)
    if args.scrape and not args.bin_dir:
        parser.error("--scrape needs --bin-dir")
    cases = static_cases(args) if args.static else scrape_cases(args)
    if args.static:
        # Unchanged, the copy passes every static check: each failure below
        # is then the mutation's doing, not the copy's.
        dest = tempfile.mkdtemp(prefix="psc-observe-mutation-")
        try:
            copy_tree(source_dir, dest)
            commands = {tuple(case.command(dest)) for case in cases}
            for argv in sorted(commands):
                done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
                if done.returncode != 0:
                    print(f"FAIL the unchanged copy fails {' '.join(argv)}:\n{done.stdout}{done.stderr}")
                    return 1
            print(f"ok   the unchanged copy passes {len(commands)} checks")
        finally:
            shutil.rmtree(dest, ignore_errors=True)
    results = [run(case, source_dir, timeout=120) for case in cases]
    failed = results.count(False)
    print(f"{len(results) - failed} of {len(results)} mistakes caught")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
