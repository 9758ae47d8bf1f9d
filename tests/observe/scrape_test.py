#!/usr/bin/env python3
"""The dashboards and alerts against a real Prometheus scraping the real
servers.

usage: scrape_test.py --bin-dir DIR --source-dir DIR [--prometheus PATH] [--protoc PATH] [--keep]

Starts, on loopback ports the kernel picks:
- pscd on the embedded journal (Prometheus job "pscd");
- psc-kafka-test-cluster, psc-gateway on it (job "psc-gateway") and, once
  the gateway has taken the load, psc-projection with --rebuild (job
  "psc-projection"), so the Kafka, log and rebuild metrics have data;
- the Debian prometheus server, scraping them every second with
  deploy/prometheus/alerts.yml as its rule file.

The job names are those of deploy/prometheus/prometheus.yml plus "pscd",
the all-in-one server, which the rules and dashboards count in both roles.

Drives a small load with the psc CLI at pscd and at the gateway (the
example catalogue, returns with corrections and a repeat, a file the CLI
refuses before sending, a withdrawal, a withdrawal the server refuses,
reports) and, over gRPC from Python, what the CLI has no command for: a
learning item, and a row only the server can refuse.

Then evaluates every expression of both dashboards (targets and variable
queries) and every alert rule through /api/v1/query. Each must return at
least one sample, unless EXPECTED_EMPTY below lists it with a reason: then
it must return none (an alert that fires on this healthy system is wrong)
and its witness (the operand without the threshold) must return samples.
Prints a table of expression -> samples; fails naming each expression with
Prometheus' answer. Stops every process it started and removes its
temporary folder, also on failure.
"""
import argparse
import calendar
import importlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import contract as c  # noqa: E402

SCRAPE_INTERVAL = 1  # seconds
# Scrape jobs: deploy/prometheus/prometheus.yml's two roles, and the
# all-in-one pscd, which the rules and dashboards count as both.
JOBS = ("pscd", "psc-gateway", "psc-projection")
INTERVALS = {"__rate_interval": "1m", "__interval": "1m", "__range": "5m"}

# Alerts whose condition is false on the healthy system this test runs: the
# expression must return nothing, and the witness (the same operand without
# its threshold, or for counters selected by an error label value that a
# healthy process never creates, the same counter without that selection)
# must return samples, proving the metric, labels and functions work.
EXPECTED_EMPTY = {
    "PscTargetDown": (
        "every process answers scrapes",
        'up{job=~"pscd|psc-gateway|psc-projection"}'),
    "PscGatewayAbsent": (
        "pscd and psc-gateway are scraped",
        'up{job=~"pscd|psc-gateway"}'),
    "PscProjectionAbsent": (
        "pscd and psc-projection are scraped",
        'up{job=~"pscd|psc-projection"}'),
    "PscMemoryNearBudget": (
        "the processes use a fraction of 512 MiB",
        "psc_process_resident_memory_bytes"),
    "PscGatewayRequestsFailing": (
        "the log takes every append, so no request has outcome failed (a series the "
        "probe need not create until then): the witness drops that selection",
        "sum by (job, instance, kind) (increase(psc_gateway_requests_total[5m]))"),
    "PscGrpcServerErrors": (
        "no call ends INTERNAL, UNAVAILABLE, UNKNOWN or DATA_LOSS, so those code series do "
        "not exist: the witness is the denominator",
        "sum by (job, instance, service, method) (rate(psc_grpc_requests_total[5m]))"),
    "PscLogAppendErrors": (
        "every append succeeds; the counter is there at 0 (without it increase() "
        "would miss the first error)",
        "sum by (job, instance, backend) (increase(psc_log_append_errors_total[5m]))"),
    "PscKafkaDeliveryErrors": (
        "the test cluster acknowledges every message; the counter is there at 0",
        "sum by (job, instance) (increase(psc_kafka_delivery_errors_total[10m]))"),
    "PscRefusalsSpike": (
        "the load refuses some requests, but far fewer than the 20-request floor",
        "sum by (job) (rate(psc_gateway_refusals_total[15m]))\n/\n"
        "sum by (job) (rate(psc_gateway_requests_total[15m]))"),
    "PscProjectionLagEvents": (
        "the projections are caught up", "psc_projection_lag_events"),
    "PscProjectionLagSeconds": (
        "the projections are caught up", "psc_projection_lag_seconds"),
    "PscProjectionNotCaughtUp": (
        "the projections caught up at start-up", "psc_projection_caught_up"),
}
# Dashboard expressions allowed to be empty here, by where they are (as the
# table prints it: "FILE panel ID 'TITLE' REFID"), with the reason.
# None: every panel has data on this system (the projection rebuilds, the
# gateway is on Kafka, the load has refusals and learning).
EXPECTED_EMPTY_PANELS = {}

CATALOGUE = "examples/catalogue.json"
RETURNS = """org_code,measure_id,month,numerator,denominator
RHM,falls-harm-rate.v1,2025-03,12,8410
RDZ,falls-harm-rate.v1,2025-03,7,5120
RTH,falls-harm-rate.v1,2025-03,9,6300
RHM,news2-on-time.v1,2025-03,880,1000
RTH,news2-on-time.v1,2025-03,712,800
RHM,staff-trained.v1,2025-03,310,
RTH,staff-trained.v1,2025-03,150,
"""
CORRECTIONS = """org_code,measure_id,month,numerator,denominator
RHM,falls-harm-rate.v1,2025-03,11,8410
RHM,falls-harm-rate.v1,2025-04,10,8300
RDZ,falls-harm-rate.v1,2025-04,6,5000
RHM,news2-on-time.v1,2025-04,905,1010
RHM,staff-trained.v1,2025-04,322,
"""
BAD_FILE = """org_code,measure_id,month,numerator,denominator
RHM,falls-harm-rate.v1,2025-04,10,8300
NOPE,falls-harm-rate.v1,2025-04,1,100
"""


class Failure(Exception):
    pass


# Children get SIGTERM when this test dies, even by SIGKILL (a ctest
# timeout): util-linux's setpriv sets the parent-death signal, then execs.
SETPRIV = shutil.which("setpriv")
DIE_WITH_PARENT = [SETPRIV, "--pdeathsig", "TERM", "--"] if SETPRIV else []


class Process:
    """A started program whose stdout is collected line by line."""

    def __init__(self, name, argv, cwd, stdin=False):
        self.name = name
        self.lines = []
        self.cond = threading.Condition()
        self.stderr_path = os.path.join(cwd, f"{name}.stderr")
        with open(self.stderr_path, "wb") as stderr:
            self.proc = subprocess.Popen(DIE_WITH_PARENT + argv, cwd=cwd, stdout=subprocess.PIPE,
                                         stderr=stderr, text=True,
                                         stdin=subprocess.PIPE if stdin else subprocess.DEVNULL)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_for(self, prefix, timeout=20):
        """The rest of the first stdout line starting with prefix."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for line in self.lines:
                    if line.startswith(prefix):
                        return line[len(prefix):].strip()
                if self.proc.poll() is not None:
                    raise Failure(f"{self.name} exited ({self.proc.returncode}) before printing "
                                  f"{prefix!r}:\n{self.output()}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Failure(f"{self.name} did not print {prefix!r} in {timeout} s:\n{self.output()}")
                self.cond.wait(min(left, 0.2))

    def output(self):
        try:
            with open(self.stderr_path, errors="replace") as f:
                err = f.read()[-3000:]
        except OSError:
            err = ""
        return "\n".join(self.lines[-30:]) + ("\nstderr:\n" + err if err else "")

    def stop(self):
        if self.proc.poll() is None:
            if self.proc.stdin:
                try:
                    self.proc.stdin.close()
                except OSError:
                    pass
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Prometheus:
    def __init__(self, base):
        self.base = base

    def get(self, path, **params):
        url = f"{self.base}{path}?{urllib.parse.urlencode(params, doseq=True)}"
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                return json.load(r)
        except urllib.error.HTTPError as e:
            body = e.read().decode(errors="replace")
            try:
                return json.loads(body)
            except ValueError:
                return {"status": "error", "error": f"HTTP {e.code}: {body[:500]}"}

    def query(self, expr):
        return self.get("/api/v1/query", query=expr)


def samples(answer):
    if answer.get("status") != "success":
        return None
    data = answer["data"]
    if data["resultType"] in ("vector", "matrix"):
        return len(data["result"])
    return 1  # a scalar or string is one value


def write_targets(tmp, job, address):
    """file_sd targets of one job; written whole, then renamed into place."""
    path = os.path.join(tmp, f"targets-{job}.json")
    with open(path + ".partial", "w") as f:
        json.dump([{"targets": [address]}] if address else [], f)
    os.rename(path + ".partial", path)


def prometheus_config(tmp, alerts):
    lines = [
        "global:",
        f"  scrape_interval: {SCRAPE_INTERVAL}s",
        f"  scrape_timeout: {SCRAPE_INTERVAL}s",
        f"  evaluation_interval: {SCRAPE_INTERVAL}s",
        "rule_files:",
        f"  - {json.dumps(alerts)}",
        "scrape_configs:",
    ]
    for job in JOBS:
        lines += [f"  - job_name: {job}",
                  "    file_sd_configs:",
                  f"      - files: [{json.dumps(os.path.join(tmp, f'targets-{job}.json'))}]",
                  "        refresh_interval: 1s"]
    path = os.path.join(tmp, "prometheus.yml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


class Load:
    """The psc CLI and, for what it has no command for, gRPC from Python."""

    def __init__(self, bin_dir, source_dir, tmp, protoc):
        self.psc = os.path.join(bin_dir, "psc")
        self.protoc = protoc
        self.source_dir = source_dir
        self.tmp = tmp
        self.messages = None

    def cli(self, server, *args, expect_ok=True, expect=None):
        run = subprocess.run([self.psc, *args, "--server", server], cwd=self.tmp,
                             capture_output=True, text=True, timeout=60)
        out = run.stdout + run.stderr
        if (run.returncode == 0) != expect_ok or (expect and expect not in out):
            raise Failure(f"psc {' '.join(args)} --server {server}: exit {run.returncode}, "
                          f"wanted {'success' if expect_ok else 'a refusal'}"
                          f"{' naming ' + repr(expect) if expect else ''}:\n{out}")
        return out

    def file(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def grpc_messages(self):
        """Python classes of the ingest messages, generated by protoc."""
        if self.messages is None:
            out = os.path.join(self.tmp, "python")
            os.makedirs(out, exist_ok=True)
            protos = ["psc/v1/catalog.proto", "psc/v1/events.proto", "psc/v1/receipt.proto",
                      "psc/v1/ingest.proto"]
            run = subprocess.run([self.protoc, f"-I{os.path.join(self.source_dir, 'proto')}",
                                  f"--python_out={out}", *protos], capture_output=True, text=True)
            if run.returncode != 0:
                raise Failure(f"protoc failed: {run.stderr}")
            sys.path.insert(0, out)
            self.messages = importlib.import_module("psc.v1.ingest_pb2"), \
                importlib.import_module("psc.v1.receipt_pb2")
        return self.messages

    def call(self, server, method, request, expect_code):
        import grpc
        ingest, receipt = self.grpc_messages()
        with grpc.insecure_channel(server) as channel:
            stub = channel.unary_unary(f"/psc.v1.IngestService/{method}",
                                       request_serializer=lambda m: m.SerializeToString(),
                                       response_deserializer=receipt.Receipt.FromString)
            try:
                stub(request, timeout=30)
                code = grpc.StatusCode.OK
            except grpc.RpcError as e:
                code, detail = e.code(), e.details()
            if code != expect_code:
                raise Failure(f"{method} at {server}: {code}, wanted {expect_code}"
                              f"{': ' + detail if code != grpc.StatusCode.OK else ''}")

    def writes(self, server):
        import grpc
        self.cli(server, "catalogue", "load", os.path.join(self.source_dir, CATALOGUE))
        returns = self.file("returns-2025-03.csv", RETURNS)
        self.cli(server, "submit", "--csv", returns)
        self.cli(server, "submit", "--csv", self.file("corrections.csv", CORRECTIONS))
        # The same file again: a duplicate, answered with the original receipt.
        self.cli(server, "submit", "--csv", returns, expect="already on the log")
        # The CLI checks a file against the catalogue before sending any of it.
        self.cli(server, "submit", "--csv", self.file("bad.csv", BAD_FILE), expect_ok=False,
                 expect="refused, nothing sent")
        self.cli(server, "withdraw", "--reason", "entered against the wrong month",
                 "RTH", "staff-trained.v1", "2025-03")
        # Refused by the server: the CLI sends withdrawals as they are.
        self.cli(server, "withdraw", "--reason", "no such organisation",
                 "NOPE", "falls-harm-rate.v1", "2025-03", expect_ok=False, expect="INVALID_ARGUMENT")
        ingest, _ = self.grpc_messages()
        learning = ingest.ShareLearningRequest()
        l = learning.learning
        l.learning_id, l.collaborative_id, l.topic_id = "learning-falls-1", "wessex", "falls"
        l.kind = 1  # LEARNING_KIND_CASE_STUDY
        l.month, l.title = "2025-03", "Falls huddles on two wards"
        l.summary = "Daily five-minute huddles reviewing patients at risk of falling."
        l.outcome = "Falls with harm fell on both wards over the quarter."
        l.measure_ids.append("falls-harm-rate.v1")
        self.call(server, "ShareLearning", learning, grpc.StatusCode.OK)
        refused = ingest.SubmitObservationsRequest(submission_id="unknown-organisation-1")
        row = refused.rows.add()
        row.ods_code, row.measure_id, row.month = "NOPE", "staff-trained.v1", "2025-04"
        row.numerator = 4
        self.call(server, "SubmitObservations", refused, grpc.StatusCode.INVALID_ARGUMENT)

    def reads(self, server):
        self.cli(server, "report", "--quarter", "2024/25 Q4", expect="Falls")
        self.cli(server, "report", "--quarter", "2024/25 Q4", "--format", "csv")
        self.cli(server, "series", "--measure", "falls-harm-rate.v1", expect="2025-03")
        self.cli(server, "status", expect="applied position")


def variables_for(prom, dashboard):
    """Each variable as Grafana would fill it: All (every value, escaped and
    joined) when the variable offers All, else its first value."""
    out = {}
    for v in dashboard.get("templating", {}).get("list", []):
        query = c.variable_query(v)
        m = c.LABEL_VALUES.match(query)
        if not m:
            raise Failure(f"variable ${v['name']}: only label_values(metric, label) is supported")
        answer = prom.get(f"/api/v1/label/{m.group(2)}/values", **{"match[]": m.group(1)})
        values = answer.get("data") or []
        if not values:
            # The variable's own row in the table fails; the panels are still
            # evaluated, with a value the example catalogue defines.
            values = [{"measure": "falls-harm-rate.v1"}.get(v["name"], "none")]
            print(f"note: ${v['name']} has no values; panels use {values[0]!r}")
        if v.get("includeAll"):
            out[v["name"]] = v.get("allValue") or "(" + "|".join(c.grafana_regex_escape(x) for x in values) + ")"
        else:
            out[v["name"]] = c.grafana_regex_escape(values[0]) if v.get("multi") else values[0]
    return out


def one_line(expr, width=96):
    text = re.sub(r"\s+", " ", expr).strip()
    return text if len(text) <= width else text[: width - 3] + "..."


def evaluate(prom, source_dir, metrics):
    dashboards = c.load_dashboards(source_dir)
    alerts = c.load_alerts(source_dir)
    rows, problems = [], []

    for file, board in dashboards.items():
        variables = variables_for(prom, board)
        for q in c.dashboard_queries({file: board}):
            m = c.LABEL_VALUES.match(q.expr)
            if m:
                answer = prom.get("/api/v1/series", **{"match[]": m.group(1)})
                n = len({s.get(m.group(2)) for s in answer.get("data", []) if m.group(2) in s}) \
                    if answer.get("status") == "success" else None
                rows.append((q.where, q.expr, n, ""))
                if not n:
                    problems.append((q.where, q.expr, answer))
                continue
            expr = c.substitute(q.expr, variables, INTERVALS)
            answer = prom.query(expr)
            n = samples(answer)
            expected_empty = q.where in EXPECTED_EMPTY_PANELS
            rows.append((q.where, expr, n, "expected empty" if expected_empty else ""))
            if n is None or (n == 0 and not expected_empty) or (n > 0 and expected_empty):
                problems.append((q.where, expr, answer))

    names = set()
    for q in c.alert_queries(alerts):
        name = q.alert.get("alert")
        names.add(name)
        answer = prom.query(q.expr)
        n = samples(answer)
        if name in EXPECTED_EMPTY:
            reason, witness = EXPECTED_EMPTY[name]
            rows.append((q.where, q.expr, n, f"expected empty: {reason}"))
            if n != 0:
                problems.append((q.where + " (must not fire on a healthy system)", q.expr, answer))
            w_answer = prom.query(witness)
            w_n = samples(w_answer)
            rows.append((f"  witness of {name}", witness, w_n, ""))
            if not w_n:
                problems.append((f"witness of {name}", witness, w_answer))
            missing = c.check_expr(witness, metrics).metrics - c.check_expr(q.expr, metrics).metrics
            if missing:
                problems.append((f"witness of {name}", witness,
                                 {"error": f"uses {sorted(missing)}, which the alert does not"}))
        else:
            rows.append((q.where, q.expr, n, ""))
            if not n:
                problems.append((q.where, q.expr, answer))
    for stale in sorted(set(EXPECTED_EMPTY) - names):
        problems.append((f"EXPECTED_EMPTY[{stale!r}]", "", {"error": "no such alert in alerts.yml"}))

    # The rule file Prometheus loaded is the one checked, and every rule
    # evaluates without error and is quiet.
    answer = prom.get("/api/v1/rules")
    loaded = [r for g in answer.get("data", {}).get("groups", []) for r in g["rules"]]
    if sorted(r["name"] for r in loaded) != sorted(names):
        problems.append(("/api/v1/rules", "", {"error": f"loaded {sorted(r['name'] for r in loaded)}"}))
    for r in loaded:
        if r.get("health") != "ok" or r.get("state") not in ("inactive", None):
            problems.append((f"rule {r['name']}", r.get("query", ""),
                             {"health": r.get("health"), "state": r.get("state"), "lastError": r.get("lastError")}))
    return rows, problems


def wait_for_scrapes(prom, since, jobs, timeout=30):
    """Until every job has one target, up, scraped 3 times after `since`."""
    deadline = time.monotonic() + timeout
    while True:
        answer = prom.get("/api/v1/targets", state="active")
        targets = answer.get("data", {}).get("activeTargets", [])
        by_job = {}
        for t in targets:
            by_job.setdefault(t["labels"]["job"], []).append(t)
        ready = True
        for job in jobs:
            ts = by_job.get(job, [])
            if len(ts) != 1 or ts[0]["health"] != "up":
                ready = False
                continue
            # RFC 3339 in UTC, e.g. 2025-04-01T10:00:00.123456789Z.
            last = ts[0]["lastScrape"]
            stamp = calendar.timegm(time.strptime(last[:19], "%Y-%m-%dT%H:%M:%S"))
            if stamp < since + 3 * SCRAPE_INTERVAL:
                ready = False
        if ready:
            return
        if time.monotonic() > deadline:
            raise Failure("Prometheus did not scrape every target 3 times after the load:\n" +
                          json.dumps([{k: t.get(k) for k in ("labels", "health", "lastError", "lastScrape")}
                                      for t in targets], indent=1))
        time.sleep(0.25)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--prometheus", default="/usr/bin/prometheus")
    parser.add_argument("--protoc", default="protoc", help="generates the Python messages it sends")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    source_dir = os.path.abspath(args.source_dir)
    metrics = c.read_contract(os.path.join(source_dir, "docs", "metrics.md"))
    with open(os.path.join(source_dir, "deploy", "prometheus", "prometheus.yml")) as f:
        deployed = {s["job_name"] for s in c.yaml.safe_load(f)["scrape_configs"]}
    if not deployed <= set(JOBS):
        print(f"FAILED: prometheus.yml scrapes {sorted(deployed - set(JOBS))}, which this test "
              f"does not run (it runs {', '.join(JOBS)})")
        return 1
    started = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="psc-observe-")
    processes = []
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    def start(name, argv, **kw):
        p = Process(name, argv, tmp, **kw)
        processes.append(p)
        return p

    def metrics_address(p):
        url = p.wait_for("metrics on http://")
        return url.split("/", 1)[0]

    bin_ = lambda name: os.path.join(args.bin_dir, name)
    try:
        pscd = start("pscd", [bin_("pscd"), "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
                              "--data-dir", os.path.join(tmp, "pscd")])
        cluster = start("kafka", [bin_("psc-kafka-test-cluster"), "--topic", "psc.events:1"], stdin=True)
        brokers = cluster.wait_for("bootstrap:")
        gateway = start("gateway", [bin_("psc-gateway"), "--kafka-brokers", brokers, "--kafka-create-topic",
                                    "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
                                    "--data-dir", os.path.join(tmp, "gateway")])
        pscd_grpc, gateway_grpc = pscd.wait_for("listening on"), gateway.wait_for("listening on")
        pscd.wait_for("ready:")
        gateway.wait_for("ready:")
        write_targets(tmp, "pscd", metrics_address(pscd))
        write_targets(tmp, "psc-gateway", metrics_address(gateway))
        write_targets(tmp, "psc-projection", None)

        port = free_port()
        alerts = os.path.join(source_dir, "deploy", "prometheus", "alerts.yml")
        start("prometheus", [args.prometheus, f"--config.file={prometheus_config(tmp, alerts)}",
                             f"--storage.tsdb.path={os.path.join(tmp, 'tsdb')}",
                             f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"])
        prom = Prometheus(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"{prom.base}/-/ready", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if processes[-1].proc.poll() is not None or time.monotonic() > deadline:
                raise Failure(f"prometheus did not become ready:\n{processes[-1].output()}")
            time.sleep(0.2)
        # One scrape of each server before the load, so counters have a
        # starting point and rate() sees the load as an increase.
        wait_for_scrapes(prom, time.time() - 3 * SCRAPE_INTERVAL, ["pscd", "psc-gateway"])

        load = Load(args.bin_dir, source_dir, tmp, args.protoc)
        load.writes(pscd_grpc)
        load.writes(gateway_grpc)
        # A projection replica built from the log the gateway wrote: a
        # --rebuild, so the rebuild gauges have a target.
        projection = start("projection", [bin_("psc-projection"), "--kafka-brokers", brokers,
                                          "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
                                          "--data-dir", os.path.join(tmp, "projection"), "--rebuild"])
        projection_grpc = projection.wait_for("listening on")
        write_targets(tmp, "psc-projection", metrics_address(projection))
        projection.wait_for("ready:")
        load.reads(pscd_grpc)
        load.reads(projection_grpc)
        loaded = time.time()
        wait_for_scrapes(prom, loaded, JOBS)

        rows, problems = evaluate(prom, source_dir, metrics)
        width = max(len(r[0]) for r in rows)
        print(f"{'expression':<{width}}  samples  query")
        for where, expr, n, note in rows:
            print(f"{where:<{width}}  {('error' if n is None else n):>7}  {one_line(expr)}"
                  f"{'  [' + note + ']' if note else ''}")
        print(f"{len(rows)} queries in {time.monotonic() - started:.1f} s")
        if problems:
            print(f"\nFAILED: {len(problems)} expressions")
            for where, expr, answer in problems:
                print(f"- {where}\n    query: {one_line(expr, 400)}\n    answer: {json.dumps(answer)[:600]}")
            return 1
        print("ok: every dashboard expression and alert rule returns data from the real servers")
        return 0
    except Failure as e:
        print(f"FAILED: {e}")
        return 1
    finally:
        for p in reversed(processes):
            try:
                p.stop()
            except Exception as e:  # stop the others all the same
                print(f"stopping {p.name} (pid {p.proc.pid}): {e}")
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
            if os.path.exists(tmp):
                print(f"could not remove {tmp}")


if __name__ == "__main__":
    sys.exit(main())
