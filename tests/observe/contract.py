"""The metric contract (docs/metrics.md) and the PromQL that uses it.

Shared by the observe tests:

- read_contract(): the table between <!-- metrics:begin --> and
  <!-- metrics:end --> as {name: Metric}.
- check_expr(): parses one PromQL expression (the subset Prometheus 2.x
  accepts, enough to tell metric names from functions, keywords and label
  names), resolves every metric name against the contract, checks every
  matcher's and every by/without/on/ignoring/group_x label against the
  labels the table gives that metric, and infers the labels of the result
  (so legends and alert templates can be checked too).
- dashboard_queries() / alert_queries(): every expression of the Grafana
  dashboards and of the alerting rules, with where it comes from.
- substitute(): Grafana's variables replaced the way Grafana would.
"""
import json
import os
import re
from dataclasses import dataclass, field

import yaml

# Labels Prometheus attaches to every scraped series.
TARGET_LABELS = {"job", "instance"}
# Prometheus' own series from scraping, with their labels.
PROMETHEUS_SERIES = {
    "up": "gauge",
    "scrape_duration_seconds": "gauge",
    "scrape_samples_scraped": "gauge",
    "scrape_samples_post_metric_relabeling": "gauge",
    "scrape_series_added": "gauge",
}
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")

AGGREGATIONS = {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count",
                "count_values", "bottomk", "topk", "quantile"}
# Functions of Prometheus 2.42 with their argument kinds: v instant vector,
# m range vector, s scalar, t string; a trailing '*' marks optional ones.
FUNCTIONS = {
    "abs": "v", "absent": "v", "absent_over_time": "m", "ceil": "v", "changes": "m",
    "clamp": "vss", "clamp_max": "vs", "clamp_min": "vs", "day_of_month": "v*",
    "day_of_week": "v*", "day_of_year": "v*", "days_in_month": "v*", "delta": "m",
    "deriv": "m", "exp": "v", "floor": "v", "histogram_quantile": "sv",
    "holt_winters": "mss", "hour": "v*", "idelta": "m", "increase": "m", "irate": "m",
    "label_join": "vtt*", "label_replace": "vtttt", "ln": "v", "log10": "v", "log2": "v",
    "minute": "v*", "month": "v*", "predict_linear": "ms", "rate": "m", "resets": "m",
    "round": "vs*", "scalar": "v", "sgn": "v", "sort": "v", "sort_desc": "v", "sqrt": "v",
    "time": "", "timestamp": "v", "vector": "s", "year": "v*",
    "avg_over_time": "m", "min_over_time": "m", "max_over_time": "m", "sum_over_time": "m",
    "count_over_time": "m", "quantile_over_time": "sm", "stddev_over_time": "m",
    "stdvar_over_time": "m", "last_over_time": "m", "present_over_time": "m",
    "acos": "v", "acosh": "v", "asin": "v", "asinh": "v", "atan": "v", "atanh": "v",
    "cos": "v", "cosh": "v", "sin": "v", "sinh": "v", "tan": "v", "tanh": "v",
    "deg": "v", "rad": "v", "pi": "",
}
# Functions meant for counters, and whose result keeps the input's labels.
COUNTER_FUNCTIONS = {"rate", "irate", "increase", "resets"}
KEEP_LABELS = {"abs", "ceil", "changes", "clamp", "clamp_max", "clamp_min", "delta", "deriv",
               "exp", "floor", "holt_winters", "idelta", "increase", "irate", "ln", "log10",
               "log2", "predict_linear", "rate", "resets", "round", "sgn", "sort", "sort_desc",
               "sqrt", "timestamp", "avg_over_time", "min_over_time", "max_over_time",
               "sum_over_time", "count_over_time", "quantile_over_time", "stddev_over_time",
               "stdvar_over_time", "last_over_time", "present_over_time", "acos", "acosh",
               "asin", "asinh", "atan", "atanh", "cos", "cosh", "sin", "sinh", "tan", "tanh",
               "deg", "rad", "day_of_month", "day_of_week", "day_of_year", "days_in_month",
               "hour", "minute", "month", "year"}


@dataclass
class Metric:
    name: str
    type: str
    labels: set


def read_contract(path):
    """The metric table of docs/metrics.md: {name: Metric}."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    begin, end = text.find("<!-- metrics:begin -->"), text.find("<!-- metrics:end -->")
    if begin < 0 or end < begin:
        raise ValueError(f"{path}: no <!-- metrics:begin --> ... <!-- metrics:end --> table")
    metrics = {}
    for line in text[begin:end].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 4 or not cells[0].startswith("`"):
            continue
        name = cells[0].strip("`")
        labels = {l.strip() for l in cells[2].split(",") if l.strip()}
        metrics[name] = Metric(name, cells[1], labels)
    if not metrics:
        raise ValueError(f"{path}: the metrics table is empty")
    return metrics


# ------------------------------------------------------------------ lexing

class PromQLError(Exception):
    pass


TOKEN = re.compile(r"""
    (?P<ws>\s+|\#[^\n]*)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<duration>(?:\d+(?:ms|s|m|h|d|w|y))+(?![\w.]))
  | (?P<number>0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_:]*)
  | (?P<op>=~|!~|==|!=|<=|>=|[-+*/%^<>=(){}\[\],:@])
  | (?P<variable>\$\{?\w+\}?|\[\[\w+\]\])
""", re.VERBOSE)


def tokenize(text):
    tokens, pos = [], 0
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m:
            raise PromQLError(f"unexpected character {text[pos]!r} at {pos}")
        pos = m.end()
        kind = m.lastgroup
        if kind == "ws":
            continue
        if kind == "variable":
            raise PromQLError(f"template variable {m.group()} left in the expression")
        tokens.append((kind, m.group()))
    tokens.append(("end", ""))
    return tokens


# ------------------------------------------------------------------ parsing

@dataclass
class Node:
    kind: str                 # selector, matrix, subquery, call, agg, binary, unary, number, string
    name: str = ""            # metric, function, aggregation or operator
    matchers: list = field(default_factory=list)   # (label, op, value)
    args: list = field(default_factory=list)
    grouping: str = ""        # by, without, on, ignoring
    labels: list = field(default_factory=list)
    card: str = ""            # group_left, group_right
    include: list = field(default_factory=list)
    bool_: bool = False


BINARY_PRECEDENCE = [
    {"or"}, {"and", "unless"}, {"==", "!=", "<=", "<", ">=", ">"}, {"+", "-"},
    {"*", "/", "%", "atan2"}, {"^"},
]
SET_OPERATORS = {"and", "or", "unless"}
COMPARISONS = {"==", "!=", "<=", "<", ">=", ">"}
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset",
            "and", "or", "unless", "atan2"}


class Parser:
    def __init__(self, text):
        self.tokens = tokenize(text)
        self.i = 0

    def peek(self, k=0):
        return self.tokens[min(self.i + k, len(self.tokens) - 1)]

    def take(self, value=None, kind=None):
        tok = self.peek()
        if (value is not None and tok[1] != value) or (kind is not None and tok[0] != kind):
            want = value if value is not None else kind
            raise PromQLError(f"expected {want!r}, found {tok[1] or 'the end'!r}")
        self.i += 1
        return tok

    def parse(self):
        node = self.expr(0)
        if self.peek()[0] != "end":
            raise PromQLError(f"unexpected {self.peek()[1]!r} after a complete expression")
        return node

    def expr(self, level):
        if level == len(BINARY_PRECEDENCE):
            return self.unary()
        lhs = self.expr(level + 1)
        while self.peek()[1] in BINARY_PRECEDENCE[level] and self.peek()[0] in ("op", "ident"):
            op = self.take()[1]
            node = Node("binary", op)
            if self.peek()[1] == "bool":
                self.take()
                node.bool_ = True
            if self.peek()[1] in ("on", "ignoring"):
                node.grouping = self.take()[1]
                node.labels = self.label_list()
            if self.peek()[1] in ("group_left", "group_right"):
                node.card = self.take()[1]
                if self.peek()[1] == "(":
                    node.include = self.label_list()
            # ^ is right-associative; every other operator left.
            rhs = self.expr(level if op == "^" else level + 1)
            node.args = [lhs, rhs]
            lhs = node
        return lhs

    def unary(self):
        if self.peek()[1] in ("-", "+"):
            op = self.take()[1]
            return Node("unary", op, args=[self.unary()])
        return self.postfix(self.primary())

    def label_list(self):
        self.take("(")
        labels = []
        while self.peek()[1] != ")":
            labels.append(self.take(kind="ident")[1])
            if self.peek()[1] == ",":
                self.take()
        self.take(")")
        return labels

    def postfix(self, node):
        while True:
            tok = self.peek()
            if tok[1] == "[":
                self.take()
                self.take(kind="duration")
                if self.peek()[1] == ":":
                    self.take()
                    if self.peek()[0] == "duration":
                        self.take()
                    self.take("]")
                    node = Node("subquery", args=[node])
                else:
                    self.take("]")
                    if node.kind != "selector":
                        raise PromQLError("a range [..] applies to a metric selector only")
                    node = Node("matrix", node.name, matchers=node.matchers, args=[node])
            elif tok[1] == "offset":
                self.take()
                if self.peek()[1] == "-":
                    self.take()
                self.take(kind="duration")
            elif tok[1] == "@":
                self.take()
                if self.peek()[0] == "number":
                    self.take()
                else:
                    self.take(kind="ident")
                    self.take("(")
                    self.take(")")
            else:
                return node

    def primary(self):
        kind, value = self.peek()
        if value == "(":
            self.take()
            node = self.expr(0)
            self.take(")")
            return node
        if kind == "number":
            self.take()
            return Node("number", value)
        if kind == "string":
            self.take()
            return Node("string", value)
        if value == "{":
            return Node("selector", "", matchers=self.matchers())
        if kind != "ident":
            raise PromQLError(f"unexpected {value or 'end'!r}")
        if value in ("Inf", "NaN", "inf", "nan"):
            self.take()
            return Node("number", value)
        if value in AGGREGATIONS and self.peek(1)[1] in ("(", "by", "without"):
            return self.aggregation()
        if self.peek(1)[1] == "(":
            if value not in FUNCTIONS:
                raise PromQLError(f"unknown function {value}()")
            self.take()
            self.take("(")
            args = []
            while self.peek()[1] != ")":
                args.append(self.expr(0))
                if self.peek()[1] == ",":
                    self.take()
            self.take(")")
            return Node("call", value, args=args)
        if value in KEYWORDS:
            raise PromQLError(f"keyword {value!r} where an expression belongs")
        self.take()
        matchers = self.matchers() if self.peek()[1] == "{" else []
        return Node("selector", value, matchers=matchers)

    def matchers(self):
        self.take("{")
        out = []
        while self.peek()[1] != "}":
            label = self.take(kind="ident")[1]
            op = self.take(kind="op")[1]
            if op not in ("=", "!=", "=~", "!~"):
                raise PromQLError(f"{op!r} is not a label matcher")
            out.append((label, op, self.take(kind="string")[1]))
            if self.peek()[1] == ",":
                self.take()
        self.take("}")
        return out

    def aggregation(self):
        node = Node("agg", self.take()[1])
        if self.peek()[1] in ("by", "without"):
            node.grouping = self.take()[1]
            node.labels = self.label_list()
        self.take("(")
        args = [self.expr(0)]
        while self.peek()[1] == ",":
            self.take()
            args.append(self.expr(0))
        self.take(")")
        if self.peek()[1] in ("by", "without"):
            if node.grouping:
                raise PromQLError(f"{node.name}: two groupings")
            node.grouping = self.take()[1]
            node.labels = self.label_list()
        node.args = args
        return node


# ------------------------------------------------------------------ checking

@dataclass
class Analysis:
    metrics: set              # metric names as written (with _bucket etc.)
    errors: list
    labels: object            # labels of the result (set), or None when unknown
    kind: str                 # vector, matrix, scalar, string


class Checker:
    def __init__(self, contract):
        self.contract = contract
        self.metrics = set()
        self.errors = []

    def resolve(self, name):
        """(type, labels) of a series name, or None after recording an error."""
        if name in PROMETHEUS_SERIES:
            return PROMETHEUS_SERIES[name], set(TARGET_LABELS)
        if name in self.contract:
            m = self.contract[name]
            if m.type == "histogram":
                self.errors.append(f"{name} is a histogram: use {name}_bucket, _sum or _count")
                return None
            return m.type, m.labels | TARGET_LABELS
        for suffix in HISTOGRAM_SUFFIXES:
            base = name[: -len(suffix)]
            if name.endswith(suffix) and base in self.contract and self.contract[base].type == "histogram":
                extra = {"le"} if suffix == "_bucket" else set()
                return "counter", self.contract[base].labels | TARGET_LABELS | extra
        self.errors.append(f"unknown metric {name}: not in the docs/metrics.md table")
        return None

    def visit(self, node):
        """(kind, labels or None, type of the metric for selectors)."""
        k = node.kind
        if k == "number":
            return "scalar", set(), None
        if k == "string":
            return "string", set(), None
        if k in ("selector", "matrix"):
            sel = node.args[0] if k == "matrix" else node
            name = sel.name
            if not name:
                names = [v for l, op, v in sel.matchers if l == "__name__" and op == "="]
                if not names:
                    self.errors.append("a selector without a metric name")
                    return ("matrix" if k == "matrix" else "vector"), None, None
                name = names[0].strip("\"'`")
            self.metrics.add(name)
            resolved = self.resolve(name)
            if resolved is None:
                return ("matrix" if k == "matrix" else "vector"), None, None
            mtype, labels = resolved
            for label, _, _ in sel.matchers:
                if label != "__name__" and label not in labels:
                    self.errors.append(f"{name} has no label {label!r} (labels: {', '.join(sorted(labels))})")
            return ("matrix" if k == "matrix" else "vector"), labels, mtype
        if k == "subquery":
            kind, labels, _ = self.visit(node.args[0])
            return "matrix", labels, None
        if k == "unary":
            return self.visit(node.args[0])
        if k == "call":
            return self.call(node)
        if k == "agg":
            return self.agg(node)
        if k == "binary":
            return self.binary(node)
        raise AssertionError(k)

    def call(self, node):
        spec = FUNCTIONS[node.name]
        required = [c for i, c in enumerate(spec) if not (i + 1 < len(spec) and spec[i + 1] == "*") and c != "*"]
        allowed = [c for c in spec if c != "*"]
        if not (len(required) <= len(node.args) <= len(allowed)):
            self.errors.append(f"{node.name}() takes {len(allowed)} arguments, not {len(node.args)}")
        results = [self.visit(a) for a in node.args]
        for i, (want, got) in enumerate(zip(allowed, results)):
            names = {"v": "vector", "m": "matrix", "s": "scalar", "t": "string"}
            if names[want] != got[0]:
                self.errors.append(f"{node.name}() argument {i + 1} must be a {names[want]} "
                                   f"{'(a range selector [..])' if want == 'm' else ''}, not a {got[0]}")
        if node.name in COUNTER_FUNCTIONS and results and results[0][2] == "gauge":
            metric = node.args[0].name
            self.errors.append(f"{node.name}() of {metric}, a gauge: {node.name} is for counters")
        if node.name in ("scalar", "time", "pi"):
            return "scalar", set(), None
        if node.name == "vector":
            return "vector", set(), None
        if node.name == "absent" or node.name == "absent_over_time":
            arg = node.args[0] if node.args else None
            if arg is not None and arg.kind in ("selector", "matrix"):
                sel = arg.args[0] if arg.kind == "matrix" else arg
                return "vector", {l for l, op, _ in sel.matchers if op == "="}, None
            return "vector", set(), None
        if node.name == "histogram_quantile":
            labels = results[1][1] if len(results) > 1 else None
            if labels is not None and "le" not in labels:
                self.errors.append("histogram_quantile() over series without 'le': aggregate "
                                   "_bucket series by (le, ...)")
            return "vector", (labels - {"le"}) if labels is not None else None, None
        if node.name in ("label_replace", "label_join"):
            labels = results[0][1]
            if labels is None:
                return "vector", None, None
            dst = node.args[1].name.strip("\"'`") if len(node.args) > 1 else ""
            sources = [a.name.strip("\"'`") for a in node.args[3:]] if node.name == "label_join" else \
                      ([node.args[3].name.strip("\"'`")] if len(node.args) > 3 else [])
            for s in sources:
                if s and s not in labels:
                    self.errors.append(f"{node.name}(): source label {s!r} is not on its input")
            return "vector", labels | {dst}, None
        if node.name in KEEP_LABELS:
            return "vector", results[0][1] if results else None, None
        return "vector", None, None

    def agg(self, node):
        results = [self.visit(a) for a in node.args]
        kind, labels, _ = results[-1]
        if kind != "vector":
            self.errors.append(f"{node.name}() aggregates an instant vector, not a {kind}")
        if labels is not None:
            for label in node.labels:
                if label not in labels:
                    self.errors.append(f"{node.name} {node.grouping} ({label}): no series "
                                       f"under it has the label {label!r} (they have: "
                                       f"{', '.join(sorted(labels))})")
        if node.name in ("topk", "bottomk"):
            return "vector", labels, None
        if node.grouping == "by":
            out = set(node.labels)
        elif node.grouping == "without":
            out = (labels - set(node.labels)) if labels is not None else None
        else:
            out = set()
        if node.name == "count_values" and out is not None and node.args:
            out = out | {node.args[0].name.strip("\"'`")}
        return "vector", out, None

    def binary(self, node):
        (lk, ll, _), (rk, rl, _) = self.visit(node.args[0]), self.visit(node.args[1])
        op = node.name
        if lk != "vector" or rk != "vector":
            if "matrix" in (lk, rk):
                self.errors.append(f"operator {op} on a range vector")
            if node.grouping or node.card:
                self.errors.append(f"{op} {node.grouping or node.card}(...) between a vector and a scalar")
            if lk == "vector":
                return "vector", ll, None
            if rk == "vector":
                return "vector", rl, None
            return "scalar", set(), None
        if ll is not None and rl is not None:
            for label in node.labels:
                if node.grouping == "on" and (label not in ll or label not in rl):
                    self.errors.append(f"{op} on ({label}): {label!r} is not on both sides")
                if node.grouping == "ignoring" and label not in ll | rl:
                    self.errors.append(f"{op} ignoring ({label}): {label!r} is on neither side")
            for label in node.include:
                side = rl if node.card == "group_left" else ll
                if label not in side:
                    self.errors.append(f"{node.card} ({label}): {label!r} is not on the other side")
            if op not in SET_OPERATORS and not node.card:
                # One-to-one matching: the label sets that take part must be equal,
                # or nothing ever matches.
                if node.grouping == "on":
                    pass
                else:
                    ignored = set(node.labels) if node.grouping == "ignoring" else set()
                    if ll - ignored != rl - ignored:
                        self.errors.append(
                            f"{op}: the sides have different labels ({', '.join(sorted(ll)) or 'none'} "
                            f"vs {', '.join(sorted(rl)) or 'none'}), so no series match; "
                            f"aggregate them alike or use on/ignoring")
        if ll is None or rl is None:
            return "vector", None, None
        if op == "or":
            return "vector", ll | rl, None
        if node.card == "group_right":
            return "vector", rl | set(node.include), None
        return "vector", ll | set(node.include), None


def check_expr(expr, contract):
    """Analysis of one expression (variables already substituted)."""
    checker = Checker(contract)
    try:
        tree = Parser(expr).parse()
    except PromQLError as e:
        return Analysis(set(), [f"does not parse: {e}"], None, "")
    kind, labels, _ = checker.visit(tree)
    return Analysis(checker.metrics, checker.errors, labels, kind)


# ------------------------------------------------------------------ sources

INTERVALS = {"__rate_interval": "1m", "__interval": "1m", "__range": "5m"}


def grafana_regex_escape(value):
    """How Grafana escapes a multi-value variable's values inside =~ "..."."""
    return re.sub(r"([\\^$*+?.()|\[\]{}/])", r"\\\\\1", value)


def substitute(expr, variables, intervals=None):
    """Replaces $name / ${name} / [[name]]. variables: {name: text}."""
    values = dict(INTERVALS if intervals is None else intervals)
    values.update(variables)

    def repl(m):
        name = m.group(1) or m.group(2) or m.group(3)
        if name not in values:
            raise KeyError(f"variable ${name} is not defined")
        return values[name]
    return re.sub(r"\$\{(\w+)\}|\$(\w+)|\[\[(\w+)\]\]", repl, expr)


@dataclass
class Query:
    where: str          # e.g. "service-health.json panel 4 'gRPC requests by method' A"
    expr: str           # as written (variables unsubstituted)
    legend: str = ""    # legendFormat, for dashboard targets
    alert: dict = None  # the rule, for alert expressions


def load_dashboards(source_dir):
    folder = os.path.join(source_dir, "deploy", "grafana", "dashboards")
    out = {}
    for name in sorted(os.listdir(folder)):
        if name.endswith(".json"):
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                out[name] = json.load(f)
    return out


def iter_panels(dashboard):
    for panel in dashboard.get("panels", []):
        yield panel
        for inner in panel.get("panels", []) or []:
            yield inner


def variable_query(variable):
    q = variable.get("query")
    if isinstance(q, dict):
        q = q.get("query", "")
    return q or variable.get("definition", "")


LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(.+?)\s*,\s*(\w+)\s*\)\s*$", re.S)


def dashboard_queries(dashboards):
    """Every target expression of every panel, and every variable query."""
    out = []
    for file, board in dashboards.items():
        for v in board.get("templating", {}).get("list", []):
            if v.get("type") == "query":
                out.append(Query(f"{file} variable ${v['name']}", variable_query(v)))
        for panel in iter_panels(board):
            for t in panel.get("targets", []) or []:
                out.append(Query(f"{file} panel {panel.get('id')} {panel.get('title')!r} {t.get('refId')}",
                                 t.get("expr", ""), t.get("legendFormat", "")))
    return out


def load_alerts(source_dir):
    with open(os.path.join(source_dir, "deploy", "prometheus", "alerts.yml"), encoding="utf-8") as f:
        return yaml.safe_load(f)


def alert_queries(alerts):
    out = []
    for group in alerts.get("groups", []):
        for rule in group.get("rules", []):
            name = rule.get("alert") or rule.get("record")
            out.append(Query(f"alerts.yml {group['name']}/{name}", rule["expr"].strip(), alert=rule))
    return out


TEMPLATE_LABEL = re.compile(r"\{\{\s*(\w+)\s*\}\}")
ALERT_LABEL = re.compile(r"\$labels\.(\w+)")


def legend_labels(legend):
    return set(TEMPLATE_LABEL.findall(legend or ""))


def annotation_labels(rule):
    used = set()
    for text in (rule.get("annotations") or {}).values():
        used |= set(ALERT_LABEL.findall(text))
    return used
