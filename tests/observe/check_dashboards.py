#!/usr/bin/env python3
"""Checks the Grafana dashboards, the alerting rules and the Prometheus
configuration against each other and against the metric contract.

usage: check_dashboards.py SOURCE_DIR

- Grafana: the provisioned data source's uid; every dashboard has a uid, a
  title and schemaVersion 36+; every panel has that data source, a gridPos
  inside the 24 columns that overlaps no other panel, a unit, and targets
  with an expr and a legendFormat.
- Every expression of the dashboards (targets and variable queries) and of
  alerts.yml parses, names only metrics of the docs/metrics.md table (or
  Prometheus' own up and scrape_*), and uses only labels the table gives
  those metrics, in matchers and in by/without/on/ignoring/group_x; legends
  and alert annotations use only labels the expression's result has.
- Every alert has for, a severity label, a summary and a description; the
  jobs the rules select are the jobs of prometheus.yml (and pscd).

Prints every problem and exits 1 if there is any.
"""
import os
import sys

import yaml

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import contract as c  # noqa: E402

SEVERITIES = {"critical", "warning"}
# The all-in-one server: not in the compose configuration, but a job the
# rules and dashboards accept (see deploy/prometheus/prometheus.yml).
EXTRA_JOBS = {"pscd"}


class Problems:
    def __init__(self):
        self.items = []

    def add(self, where, message):
        self.items.append(f"{where}: {message}")


def check_grafana(source_dir, dashboards, problems):
    ds_path = os.path.join(source_dir, "deploy/grafana/provisioning/datasources/prometheus.yaml")
    with open(ds_path, encoding="utf-8") as f:
        sources = yaml.safe_load(f).get("datasources", [])
    prom = [s for s in sources if s.get("type") == "prometheus"]
    if len(prom) != 1:
        problems.add(ds_path, "expected exactly one prometheus data source")
        return
    uid = prom[0].get("uid")
    if not uid:
        problems.add(ds_path, "the data source has no uid for dashboards to refer to")
    if prom[0].get("url") != "http://prometheus:9090":
        problems.add(ds_path, f"url is {prom[0].get('url')!r}, not http://prometheus:9090")
    dash_path = os.path.join(source_dir, "deploy/grafana/provisioning/dashboards/psc.yaml")
    with open(dash_path, encoding="utf-8") as f:
        providers = yaml.safe_load(f).get("providers", [])
    if not any(p.get("type") == "file" and p.get("options", {}).get("path") == "/var/lib/grafana/dashboards"
               for p in providers):
        problems.add(dash_path, "no file provider reading /var/lib/grafana/dashboards")

    want_ds = {"type": "prometheus", "uid": uid}
    uids = set()
    for file, board in dashboards.items():
        for key in ("uid", "title"):
            if not board.get(key):
                problems.add(file, f"no {key}")
        if board.get("uid") in uids:
            problems.add(file, f"uid {board.get('uid')!r} used twice")
        uids.add(board.get("uid"))
        if not isinstance(board.get("schemaVersion"), int) or board["schemaVersion"] < 36:
            problems.add(file, f"schemaVersion {board.get('schemaVersion')!r}, want 36 or later")
        for v in board.get("templating", {}).get("list", []):
            if v.get("type") == "query" and v.get("datasource") != want_ds:
                problems.add(f"{file} variable ${v.get('name')}", f"datasource {v.get('datasource')!r}, want {want_ds}")
        panels = list(c.iter_panels(board))
        if not panels:
            problems.add(file, "no panels")
        ids, cells = set(), {}
        for panel in panels:
            where = f"{file} panel {panel.get('id')} {panel.get('title')!r}"
            if panel.get("id") in ids:
                problems.add(where, "id used twice")
            ids.add(panel.get("id"))
            if not panel.get("title"):
                problems.add(where, "no title")
            if panel.get("datasource") != want_ds:
                problems.add(where, f"datasource {panel.get('datasource')!r}, want {want_ds}")
            grid = panel.get("gridPos") or {}
            if not all(isinstance(grid.get(k), int) for k in ("h", "w", "x", "y")):
                problems.add(where, f"gridPos {grid!r} lacks integer h, w, x, y")
            else:
                if grid["x"] < 0 or grid["w"] <= 0 or grid["h"] <= 0 or grid["x"] + grid["w"] > 24:
                    problems.add(where, f"gridPos {grid!r} is outside the 24 columns")
                for dx in range(grid["w"]):
                    for dy in range(grid["h"]):
                        cell = (grid["x"] + dx, grid["y"] + dy)
                        if cell in cells and cells[cell] != panel.get("id"):
                            problems.add(where, f"overlaps panel {cells[cell]} at {cell}")
                            break
                        cells[cell] = panel.get("id")
                    else:
                        continue
                    break
            unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit")
            if not unit:
                problems.add(where, "no unit (fieldConfig.defaults.unit)")
            targets = panel.get("targets") or []
            if not targets:
                problems.add(where, "no targets")
            for t in targets:
                if not t.get("expr"):
                    problems.add(where, f"target {t.get('refId')} has no expr")
                if not t.get("legendFormat"):
                    problems.add(where, f"target {t.get('refId')} has no legendFormat")
                if "datasource" in t and t["datasource"] != want_ds:
                    problems.add(where, f"target {t.get('refId')} datasource {t['datasource']!r}")


def placeholder_variables(dashboards):
    """Every dashboard variable as some value, for parsing only."""
    names = {}
    for board in dashboards.values():
        for v in board.get("templating", {}).get("list", []):
            names[v["name"]] = "placeholder"
    return names


def check_expressions(queries, metrics, variables, problems):
    used = set()
    for q in queries:
        m = c.LABEL_VALUES.match(q.expr)
        if m:
            analysis = c.check_expr(m.group(1), metrics)
            if analysis.labels is not None and m.group(2) not in analysis.labels:
                problems.add(q.where, f"label_values(): {m.group(1)} has no label {m.group(2)!r}")
        else:
            try:
                expr = c.substitute(q.expr, variables)
            except KeyError as e:
                problems.add(q.where, str(e))
                continue
            analysis = c.check_expr(expr, metrics)
        for error in analysis.errors:
            problems.add(q.where, f"{error}\n    in: {q.expr}")
        if analysis.kind and analysis.kind not in ("vector", "scalar"):
            problems.add(q.where, f"the expression is a {analysis.kind}, not an instant vector")
        if analysis.labels is not None:
            wanted = c.legend_labels(q.legend) | (c.annotation_labels(q.alert) if q.alert else set())
            for label in sorted(wanted - analysis.labels):
                problems.add(q.where, f"uses label {label!r}, which the result does not have "
                                      f"(it has: {', '.join(sorted(analysis.labels)) or 'none'})")
        used |= analysis.metrics
    return used


def check_alerts(source_dir, alerts, problems):
    names = set()
    jobs_selected = set()
    for q in c.alert_queries(alerts):
        rule = q.alert
        if "alert" not in rule:
            continue
        if rule["alert"] in names:
            problems.add(q.where, "alert name used twice")
        names.add(rule["alert"])
        if not rule.get("for"):
            problems.add(q.where, "no 'for'")
        if (rule.get("labels") or {}).get("severity") not in SEVERITIES:
            problems.add(q.where, f"severity {(rule.get('labels') or {}).get('severity')!r}, want one of {sorted(SEVERITIES)}")
        for key in ("summary", "description"):
            if not (rule.get("annotations") or {}).get(key):
                problems.add(q.where, f"no {key} annotation")
        analysis_tree = None
        try:
            analysis_tree = c.Parser(q.expr).parse()
        except c.PromQLError:
            continue
        stack = [analysis_tree]
        while stack:
            node = stack.pop()
            stack.extend(node.args)
            for label, op, value in node.matchers:
                if label == "job":
                    text = value[1:-1]
                    jobs_selected |= set(text.split("|")) if op == "=~" else {text}
    with open(os.path.join(source_dir, "deploy/prometheus/prometheus.yml"), encoding="utf-8") as f:
        config = yaml.safe_load(f)
    jobs = {s["job_name"] for s in config.get("scrape_configs", [])}
    for job in sorted(jobs - jobs_selected):
        problems.add("prometheus.yml", f"job {job!r} is selected by no alert (up/absent)")
    for job in sorted(jobs_selected - jobs - EXTRA_JOBS):
        problems.add("alerts.yml", f"selects job {job!r}, which prometheus.yml does not scrape")
    if "alerts.yml" not in (config.get("rule_files") or []):
        problems.add("prometheus.yml", "rule_files does not load alerts.yml")


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    source_dir = sys.argv[1]
    metrics = c.read_contract(os.path.join(source_dir, "docs", "metrics.md"))
    dashboards = c.load_dashboards(source_dir)
    alerts = c.load_alerts(source_dir)
    problems = Problems()
    if set(dashboards) != {"service-health.json", "programme.json"}:
        problems.add("deploy/grafana/dashboards", f"dashboards {sorted(dashboards)}")
    check_grafana(source_dir, dashboards, problems)
    queries = c.dashboard_queries(dashboards) + c.alert_queries(alerts)
    used = check_expressions(queries, metrics, placeholder_variables(dashboards), problems)
    check_alerts(source_dir, alerts, problems)

    print(f"{len(metrics)} metrics in the contract; {len(queries)} expressions checked "
          f"({len(c.dashboard_queries(dashboards))} from dashboards, {len(c.alert_queries(alerts))} alerts)")
    unused = sorted(n for n in metrics if n not in used and not any(
        n + s in used for s in c.HISTOGRAM_SUFFIXES))
    if unused:
        print("note: contract metrics no dashboard or alert uses: " + ", ".join(unused))
    if problems.items:
        print(f"FAILED: {len(problems.items)} problems")
        for p in problems.items:
            print("  " + p)
        return 1
    print("ok: dashboards, alerts and prometheus.yml agree with docs/metrics.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
