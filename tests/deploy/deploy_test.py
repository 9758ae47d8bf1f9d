#!/usr/bin/env python3
"""Checks the deployment files' wiring without running them.

No container engine, Kafka broker, Prometheus, Grafana or Kubernetes cluster
runs these checks: they parse deploy/Dockerfile, .dockerignore,
deploy/compose.yaml, deploy/debian-packages.txt, k8s/*.yaml (and, once they
exist, deploy/prometheus/* and deploy/grafana/*), ask the built programs
which flags they accept (`PROGRAM --help`) and run `./dev pki` in a
temporary folder to see what the compose file mounts. Every problem names
the file, the object and the field.

    deploy_test.py --source-dir SRC --bin-dir BIN [unittest arguments]

One ctest test runs one TestCase class (tests/deploy/CMakeLists.txt).
"""

import argparse
import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import unittest

import yaml

SOURCE_DIR = ""
BIN_DIR = ""

# The port plan every deployment file follows.
GRPC_PORT = {"psc-gateway": 50051, "psc-projection": 50052, "pscd": 50051}
METRICS_PORT = 9464
PROMETHEUS_PORT = 9090
GRAFANA_PORT = 3000
KAFKA_CLIENT_PORT = 9092
KAFKA_CONTROLLER_PORT = 9093
# The programs' own default (--kafka-topic) and drain time on SIGTERM.
DEFAULT_TOPIC = "psc.events"
DRAIN_SECONDS = 5
# The Dockerfile's runtime targets and the programs they run.
TARGET_PROGRAM = {"gateway": "psc-gateway", "projection": "psc-projection", "pscd": "pscd"}
# Third-party images and what they are for.
KAFKA_IMAGE = "apache/kafka"
PROMETHEUS_IMAGE = "prom/prometheus"
GRAFANA_IMAGE = "grafana/grafana"
# The programs' default --listen (loopback: single-user) and psc health's
# defaults.
DEFAULT_LISTEN = "127.0.0.1:50051"
HEALTH_DEFAULT_SERVER = "127.0.0.1:50051"
HEALTH_DEFAULT_TIMEOUT = 5
# A server listening beyond loopback refuses to start without these
# (docs/security.md).
REMOTE_FLAGS = ("policy", "tls-cert", "tls-key")
# Where every deployment puts the access policy and the TLS files inside a
# container. They are mounted when it runs, never part of an image: compose
# mounts deploy/secrets (`./dev pki deploy/secrets`), Kubernetes the
# ConfigMap psc-policy and the Secret psc-tls. ca.pem is the CA of the
# servers' certificate and of the clients'.
CONTAINER_FILES = {"policy": "/etc/psc/policy/policy.json",
                   "tls-cert": "/etc/psc/tls/server.pem",
                   "tls-key": "/etc/psc/tls/server.key",
                   "tls-client-ca": "/etc/psc/tls/ca.pem"}
HEALTH_CA = CONTAINER_FILES["tls-client-ca"]
CONTAINER_SECRETS_ROOT = "/etc/psc"
K8S_POLICY_CONFIGMAP = "psc-policy"
K8S_TLS_SECRET = "psc-tls"
# The keys of the Secret psc-tls (operators create it; not in k8s/).
K8S_TLS_SECRET_KEYS = {"ca.pem", "server.pem", "server.key"}
# What `./dev pki DIR` makes beside DIR/tls and DIR/policy: the client
# certificate of this principal (DIR/NAME.pem, DIR/NAME.key).
PKI_CLIENT = "national"
# The user the images run as, who reads the mounted files.
CONTAINER_UID = 10001
# The key store (--key-store): the keys that seal learning text, one file per
# key, apart from the log. Every psc-gateway creates and destroys keys in it,
# every psc-projection reads them, so all of them see ONE shared folder, at
# this path in every container: a VOLUME of the images, the named volume
# learning-keys in compose, the PersistentVolumeClaim psc-learning-keys
# (ReadWriteMany) in Kubernetes. pscd keeps its keys under its own data dir.
KEY_STORE = "/var/lib/psc-keys"
KEY_STORE_WRITERS = {"psc-gateway"}
KEY_STORE_READERS = {"psc-projection"}
KEY_STORE_PROGRAMS = KEY_STORE_WRITERS | KEY_STORE_READERS
# Its mode: what psc-gateway sets on a folder it owns (keys are its user's
# alone).
KEY_STORE_MODE = 0o700
K8S_KEY_STORE_CLAIM = "psc-learning-keys"


def src(*parts):
    return os.path.join(SOURCE_DIR, *parts)


def rel(path):
    return os.path.relpath(path, SOURCE_DIR)


# ---------------------------------------------------------------- helpers


class Checks(unittest.TestCase):
    """A TestCase that collects every problem and fails once, listing them."""

    def setUp(self):
        self.problems = []

    def expect(self, condition, message):
        if not condition:
            self.problems.append(message)
        return bool(condition)

    def done(self):
        if self.problems:
            self.fail("\n  " + "\n  ".join(self.problems))


def load_yaml_documents(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def port_of(address):
    """The port of HOST:PORT ([v6]:PORT allowed), or None."""
    if address is None:
        return None
    m = re.fullmatch(r"(\[[^\]]*\]|[^:\[\]]*):(\d+)", str(address))
    return int(m.group(2)) if m else None


def host_of(address):
    m = re.fullmatch(r"(\[[^\]]*\]|[^:\[\]]*):(\d+)", str(address))
    return m.group(1) if m else None


def is_loopback(address):
    host = (host_of(address) or "").strip("[]")
    return host in ("localhost", "::1") or host.startswith("127.")


def seconds(duration):
    """A Docker or compose duration (5s, 1m30s, 300ms) or a number of
    seconds, in seconds; None when unreadable."""
    if isinstance(duration, (int, float)):
        return float(duration)
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|ns|h|m|s)", str(duration))
    if not parts or "".join(a + b for a, b in parts) != str(duration):
        return None
    scale = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
    return sum(float(a) * scale[b] for a, b in parts)


def mounted_at(path, targets):
    """The longest of `targets` (mount points) that `path` lies under, or
    None."""
    best = None
    for target in targets:
        target = str(target).rstrip("/") or "/"
        if str(path).startswith(target + "/") and (best is None or len(target) > len(best)):
            best = target
    return best


_flag_cache = {}


def accepted_flags(program, subcommand=None):
    """{flag: takes_value} from `BIN/program [subcommand] --help`."""
    key = (program, subcommand)
    if key in _flag_cache:
        return _flag_cache[key]
    path = os.path.join(BIN_DIR, program)
    if not os.path.exists(path):
        raise AssertionError(f"{path} does not exist: build the programs first")
    argv = [path] + ([subcommand] if subcommand else []) + ["--help"]
    run = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if run.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} exited {run.returncode}: {run.stderr}")
    flags = {"help": False}
    for line in run.stdout.splitlines():
        m = re.fullmatch(r"\s{2}--([A-Za-z0-9][A-Za-z0-9-]*)(=VALUE)?\s*", line)
        if m:
            flags[m.group(1)] = bool(m.group(2))
    if len(flags) < 2:
        raise AssertionError(f"{' '.join(argv)} listed no flags:\n{run.stdout}")
    _flag_cache[key] = flags
    return flags


def parse_command_line(tokens, known, where, problems, positional_ok=0):
    """Parses `--flag value`, `--flag=value` and bare boolean flags against
    `known` ({name: takes_value}); returns {name: value}. Problems (unknown
    flags, missing values, stray words) go to `problems`, prefixed with
    `where`."""
    values = {}
    positional = 0
    i = 0
    tokens = [str(t) for t in tokens]
    while i < len(tokens):
        token = tokens[i]
        if not token.startswith("--"):
            positional += 1
            if positional > positional_ok:
                problems.append(f"{where}: '{token}' is not a flag's value nor a flag")
            i += 1
            continue
        name, eq, value = token[2:].partition("=")
        if name not in known:
            problems.append(f"{where}: --{name} is not a flag the program accepts "
                            f"(its --help lists: {', '.join('--' + k for k in sorted(known))})")
            i += 1
            continue
        if known[name]:
            if not eq:
                if i + 1 >= len(tokens):
                    problems.append(f"{where}: --{name} needs a value")
                    break
                value = tokens[i + 1]
                i += 1
        else:
            if eq and value not in ("true", "false"):
                problems.append(f"{where}: --{name} is a boolean flag, not '{value}'")
            value = value if eq else "true"
        values[name] = value
        i += 1
    return values


def check_server_access(values, where, problems):
    """A server listening beyond loopback runs under an access policy over
    TLS (without --policy, --tls-cert and --tls-key it refuses to start),
    reading its files where every deployment mounts them. Returns the files
    it reads, {flag: path}."""
    listen = values.get("listen", DEFAULT_LISTEN)
    if not is_loopback(listen):
        for flag in REMOTE_FLAGS:
            if not values.get(flag):
                problems.append(f"{where}: --listen {listen} is not loopback and --{flag} is missing: the server "
                                f"refuses to start without {', '.join('--' + f for f in REMOTE_FLAGS)}")
    files = {flag: values[flag] for flag in CONTAINER_FILES if values.get(flag)}
    for flag, path in files.items():
        if path != CONTAINER_FILES[flag]:
            problems.append(f"{where}: --{flag} {path}: expected {CONTAINER_FILES[flag]}, where every deployment "
                            "mounts it")
    return files


def check_health_command(health, values, where, problems, limit=None, limit_field=None):
    """`psc health` flags ({flag: value}) checking a server run with
    `values`: its --listen port on loopback, over TLS when the server speaks
    TLS, answering within the runner's timeout (`limit` seconds, read from
    `limit_field`). Returns the CA file it reads, or None."""
    listen = values.get("listen", DEFAULT_LISTEN)
    server = health.get("server", HEALTH_DEFAULT_SERVER)
    if port_of(server) != port_of(listen) or not is_loopback(server):
        problems.append(f"{where}: --server {server}: expected 127.0.0.1:{port_of(listen)}, the --listen port")
    ca = health.get("tls-ca")
    if values.get("tls-cert") and not ca:
        problems.append(f"{where}: no --tls-ca: the server speaks TLS only (--tls-cert {values['tls-cert']}), "
                        "so a plaintext health check never passes")
    elif ca and not values.get("tls-cert"):
        problems.append(f"{where}: --tls-ca {ca}, but the server speaks plaintext (no --tls-cert)")
    elif ca and ca != HEALTH_CA:
        problems.append(f"{where}: --tls-ca {ca}: expected {HEALTH_CA}, the CA of the server's certificate")
    timeout = health.get("timeout", HEALTH_DEFAULT_TIMEOUT)
    try:
        timeout = float(timeout)
    except ValueError:
        problems.append(f"{where}: --timeout {timeout}: not a number of seconds")
        timeout = None
    if limit_field and timeout is not None:
        if limit is None:
            problems.append(f"{limit_field}: unreadable")
        elif limit <= timeout:
            problems.append(f"{limit_field} {limit:g} s must exceed the psc health --timeout {timeout:g} it "
                            "runs, or the check is stopped before it can answer")
    return ca


def expand_env(text, env):
    """Kubernetes' $(VAR) expansion in args."""
    return re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: str(env.get(m.group(1), m.group(0))), text)


def mib(quantity):
    """A Kubernetes memory quantity in MiB."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([KMGT]i?|[kMGT]|)", str(quantity))
    if not m:
        return None
    scale = {"": 1, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
             "Ki": 1024, "Mi": 1024 ** 2, "Gi": 1024 ** 3, "Ti": 1024 ** 4}[m.group(2)]
    return float(m.group(1)) * scale / 1024 ** 2


def ignored_by_git(path):
    """Does the repository's .gitignore keep `path` (relative to the root)
    out of git? Plain rules only: names, folders and globs, `!` to admit."""
    try:
        with open(src(".gitignore"), encoding="utf-8") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return False
    parts = os.path.normpath(path).split(os.sep)
    prefixes = ["/".join(parts[:k]) for k in range(1, len(parts) + 1)]
    result = False
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line.lstrip("!")
        anchored = "/" in pattern.rstrip("/")
        pattern = pattern.strip("/")
        if anchored:
            hit = any(fnmatch.fnmatchcase(p, pattern) for p in prefixes)
        else:
            hit = any(fnmatch.fnmatchcase(c, pattern) for c in parts)
        if hit:
            result = not negate
    return result


def image_repository(image):
    """`REGISTRY/NAME:TAG@DIGEST` -> `NAME` with any registry and path kept
    but the tag and digest removed."""
    image = str(image).split("@")[0]
    last = image.rsplit("/", 1)
    if ":" in last[-1]:
        image = image[: image.rindex(":")]
    return image


# ------------------------------------------------------------- Dockerfile


class Instruction:
    def __init__(self, keyword, args, line):
        self.keyword, self.args, self.line = keyword, args, line

    def json_args(self):
        try:
            value = json.loads(self.args)
        except json.JSONDecodeError:
            return None
        return value if isinstance(value, list) else None


class Stage:
    def __init__(self, base, name, line):
        self.base, self.name, self.line = base, name, line
        self.instructions = []

    def all(self, keyword):
        return [i for i in self.instructions if i.keyword == keyword]

    def last(self, keyword):
        found = self.all(keyword)
        return found[-1] if found else None


class Dockerfile:
    def __init__(self, path):
        self.path = path
        self.stages = []
        logical, start = "", None
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        for number, line in enumerate(lines, 1):
            stripped = line.strip()
            if stripped.startswith("#") or (not stripped and not logical):
                continue
            if start is None:
                start = number
            if stripped.endswith("\\"):
                logical += stripped[:-1] + " "
                continue
            logical += stripped
            keyword, _, args = logical.strip().partition(" ")
            self._add(Instruction(keyword.upper(), args.strip(), start))
            logical, start = "", None

    def _add(self, instruction):
        if instruction.keyword == "FROM":
            words = [w for w in instruction.args.split() if not w.startswith("--")]
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            self.stages.append(Stage(words[0], name, instruction.line))
        elif self.stages:
            self.stages[-1].instructions.append(instruction)

    def stage(self, name):
        for s in self.stages:
            if s.name == name:
                return s
        return None

    def chain(self, name):
        """The stage and the stages it is built FROM, nearest first."""
        out = []
        stage = self.stage(name)
        while stage is not None and stage not in out:
            out.append(stage)
            stage = self.stage(stage.base)
        return out

    def inherited(self, name, keyword):
        for stage in self.chain(name):
            found = stage.last(keyword)
            if found:
                return found
        return None

    def gathered(self, name, keyword):
        return [i for stage in self.chain(name) for i in stage.all(keyword)]

    def where(self, stage, instruction=None):
        line = instruction.line if instruction else stage.line
        return f"{rel(self.path)}:{line}: stage {stage.name or stage.base}"


def healthcheck_command(instruction):
    """The exec-form command of a HEALTHCHECK, or None."""
    m = re.search(r"(?:^|\s)CMD\s+(.*)$", instruction.args)
    if not m:
        return None
    try:
        value = json.loads(m.group(1))
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, list) else None


def run_mounts(instruction):
    """The --mount options of a RUN and the command after them."""
    mounts, rest = [], instruction.args
    while rest.startswith("--"):
        option, _, rest = rest.partition(" ")
        rest = rest.lstrip()
        if option.startswith("--mount="):
            mounts.append(dict(kv.split("=", 1) for kv in option[len("--mount="):].split(",") if "=" in kv))
    return mounts, rest


def copied_programs(dockerfile, target):
    """Programs a target's stage chain copies to /usr/local/bin."""
    out = set()
    for copy in dockerfile.gathered(target, "COPY"):
        words = copy.args.split()
        if len(words) >= 3 and words[-1].startswith("/usr/local/bin"):
            for source in words[1:-1]:
                if not source.startswith("--"):
                    out.add(os.path.basename(source))
    return out


def user_ids(dockerfile, target):
    """({user name: uid}, {group name: gid}) from the useradd and groupadd
    commands of a target's stage chain, numbers standing for themselves."""
    users, groups = {}, {}
    for run in dockerfile.gathered(target, "RUN"):
        for segment in re.split(r"&&|;|\|\|", run_mounts(run)[1]):
            words = segment.split()
            if not words or words[0] not in ("useradd", "groupadd"):
                continue
            m = re.search(r"(?:--uid|-u|--gid|-g)[\s=]+(\d+)", segment)
            if m:
                (users if words[0] == "useradd" else groups)[words[-1]] = int(m.group(1))
    return users, groups


def folder_made(dockerfile, target, path):
    """How a target's stage chain makes the folder `path`: [(instruction,
    stage, owner, group, mode)] for every RUN segment (install -d, mkdir,
    chown, chmod) naming it; owner, group and mode are None when the
    segment does not set them."""
    out = []
    for stage in reversed(dockerfile.chain(target)):
        for run in stage.all("RUN"):
            for segment in re.split(r"&&|;|\|\|", run_mounts(run)[1]):
                try:
                    words = shlex.split(segment)
                except ValueError:
                    continue
                if path not in [w.rstrip("/") for w in words] or not words:
                    continue
                owner = group = mode = None
                command, rest = words[0], words[1:]
                if command == "install" and ("-d" in rest or "--directory" in rest):
                    options = {}
                    i = 0
                    while i < len(rest):
                        word = rest[i]
                        name, eq, value = word.partition("=")
                        if name in ("-o", "-g", "-m") and i + 1 < len(rest):
                            options[name] = rest[i + 1]
                            i += 1
                        elif eq and name in ("--owner", "--group", "--mode"):
                            options[{"--owner": "-o", "--group": "-g", "--mode": "-m"}[name]] = value
                        i += 1
                    owner, group, mode = options.get("-o"), options.get("-g"), options.get("-m")
                elif command == "mkdir":
                    m = re.search(r"(?:-m|--mode)[\s=]+(\S+)", segment)
                    mode = m.group(1) if m else None
                elif command == "chown":
                    spec = next((w for w in rest if not w.startswith("-")), "")
                    owner, _, group = spec.partition(":")
                    group = group or None
                elif command == "chmod":
                    mode = next((w for w in rest if not w.startswith("-")), None)
                else:
                    continue
                out.append((run, stage, owner, group, mode))
    return out


def linear_instructions(dockerfile, target):
    """A target's instructions in build order, from its first stage on."""
    return [i for stage in reversed(dockerfile.chain(target)) for i in stage.instructions]


# ------------------------------------------------------ the package list


def dev_packages(selection):
    run = subprocess.run([src("dev"), "packages", selection], capture_output=True, text=True, timeout=30)
    if run.returncode != 0:
        raise AssertionError(f"./dev packages {selection} exited {run.returncode}: {run.stderr}")
    return run.stdout.split()


# --------------------------------------------------------------- the tests


class PackageListTest(Checks):
    """deploy/debian-packages.txt is the one list, and the Dockerfile installs
    nothing else."""

    def test_list_reads_and_is_consistent(self):
        everything = dev_packages("all")
        build = dev_packages("build")
        runtime = dev_packages("runtime")
        where = "deploy/debian-packages.txt"
        self.expect(len(everything) == len(set(everything)),
                    f"{where}: a package is listed twice: "
                    f"{sorted(p for p in everything if everything.count(p) > 1)}")
        self.expect(set(build) <= set(everything), f"{where}: `build` selection outside the list")
        self.expect(runtime and set(runtime) <= set(build),
                    f"{where}: the `# runtime` packages must be non-empty and installed by the build stage too")
        for needed in ("python3", "python3-yaml", "cmake", "ninja-build"):
            self.expect(needed in everything, f"{where}: {needed} is missing")
        for package in everything:
            self.expect(re.fullmatch(r"[a-z0-9][a-z0-9+.-]+", package),
                        f"{where}: '{package}' is not a Debian package name")
        self.done()

    def test_dockerfile_installs_only_listed_packages(self):
        dockerfile = Dockerfile(src("deploy", "Dockerfile"))
        listed = {sel: set(dev_packages(sel)) for sel in ("all", "build", "runtime")}
        runtime_stages = {s.name for target in TARGET_PROGRAM for s in dockerfile.chain(target)}
        installs = 0
        for stage in dockerfile.stages:
            for run in stage.all("RUN"):
                mounts, command = run_mounts(run)
                for segment in re.split(r"&&|;|\|\|", command):
                    if not re.search(r"\bapt-get\s+install\b", segment) and not re.search(r"\bapt\s+install\b", segment):
                        continue
                    installs += 1
                    where = dockerfile.where(stage, run)
                    substitutions = re.findall(r"\$\(([^)]*)\)", segment)
                    words = shlex.split(re.sub(r"\$\([^)]*\)", " __LIST__ ", segment))
                    words = words[words.index("install") + 1:]
                    for word in words:
                        if word.startswith("-"):
                            continue
                        if word == "__LIST__":
                            continue
                        allowed = listed["runtime"] if stage.name in runtime_stages else listed["all"]
                        self.expect(word in allowed,
                                    f"{where}: apt-get install {word}: not in deploy/debian-packages.txt"
                                    + (" as `# runtime`" if stage.name in runtime_stages else ""))
                    for sub in substitutions:
                        m = re.fullmatch(r"\s*(\S+)/dev packages (\w+)\s*", sub)
                        if not self.expect(m, f"{where}: apt-get install $({sub}): only "
                                              "`$(DIR/dev packages SELECTION)` reads the list"):
                            continue
                        folder, selection = m.groups()
                        want = "runtime" if stage.name in runtime_stages else "build"
                        self.expect(selection == want,
                                    f"{where}: stage {stage.name} installs `dev packages {selection}`; "
                                    f"it should install `{want}`")
                        sources = {m.get("target"): m.get("source") for m in mounts
                                   if m.get("type") == "bind" and "from" not in m}
                        self.expect(sources.get(f"{folder}/dev") == "dev",
                                    f"{where}: {folder}/dev is not ./dev bind-mounted from the build context")
                        self.expect(sources.get(f"{folder}/deploy/debian-packages.txt") == "deploy/debian-packages.txt",
                                    f"{where}: {folder}/deploy/debian-packages.txt is not the list "
                                    "bind-mounted from the build context")
        self.expect(installs >= 2, f"deploy/Dockerfile: expected apt-get install in the build and runtime "
                                   f"stages, found {installs}")
        self.done()


class RuntimeLibrariesTest(Checks):
    """The `# runtime` packages carry every shared library the built programs
    load (checked with ldd and this system's dpkg database)."""

    @classmethod
    def setUpClass(cls):
        if subprocess.run(["sh", "-c", "command -v dpkg-query && command -v ldd"],
                          capture_output=True).returncode != 0:
            raise unittest.SkipTest("dpkg-query or ldd is not available: cannot map libraries to packages")

    def test_runtime_packages_cover_the_programs_libraries(self):
        status = subprocess.run(
            ["dpkg-query", "-W", "-f", "${Package}\t${db:Status-Abbrev}\t${Depends}\t${Pre-Depends}\t${Provides}\n"],
            capture_output=True, text=True, check=True).stdout
        depends, installed, providers = {}, set(), {}
        for line in status.splitlines():
            package, state, deps, pre, provides = (line.split("\t") + [""] * 5)[:5]
            if not state.startswith("ii"):
                continue
            installed.add(package)
            names = set()
            for clause in (deps + "," + pre).split(","):
                for alternative in clause.split("|"):
                    name = alternative.strip().split(" ")[0].split(":")[0]
                    if name:
                        names.add(name)
            depends[package] = names
            for p in provides.split(","):
                name = p.strip().split(" ")[0]
                if name:
                    providers.setdefault(name, set()).add(package)
        runtime = dev_packages("runtime")
        for package in runtime:
            self.expect(package in installed,
                        f"deploy/debian-packages.txt: {package} (# runtime) is not an installed Debian package here")
        closure, todo = set(), list(runtime)
        while todo:
            package = todo.pop()
            if package in closure:
                continue
            closure.add(package)
            for dep in depends.get(package, ()):
                todo.extend([dep] + sorted(providers.get(dep, ())))
        libraries = {}  # path -> programs loading it
        for program in ("pscd", "psc-gateway", "psc-projection", "psc"):
            path = os.path.join(BIN_DIR, program)
            ldd = subprocess.run(["ldd", path], capture_output=True, text=True, check=True).stdout
            for line in ldd.splitlines():
                m = re.search(r"(?:=>\s*)?(/\S+)\s+\(0x", line)
                if m:
                    libraries.setdefault(m.group(1), []).append(program)
                else:
                    self.expect("linux-vdso" in line or "statically" in line,
                                f"{program}: ldd: unresolved library: {line.strip()}")

        def candidates(library):
            # /lib and /usr/lib are one folder (merged /usr); dpkg knows one name.
            out = {library, os.path.realpath(library)}
            for path in list(out):
                for a, b in (("/usr/lib/", "/lib/"), ("/lib/", "/usr/lib/"), ("/lib64/", "/usr/lib64/")):
                    if path.startswith(a):
                        out.add(b + path[len(a):])
            return out

        # One dpkg-query for every name (it answers the ones it knows).
        every = sorted({c for library in libraries for c in candidates(library)})
        owners = {}
        for line in subprocess.run(["dpkg-query", "-S"] + every, capture_output=True, text=True).stdout.splitlines():
            packages, _, path = line.partition(": ")
            if path and not packages.startswith("diversion"):
                owners[path.strip()] = packages.split(",")[0].split(":")[0].strip()
        loaded_from = set()
        for library, programs in sorted(libraries.items()):
            owner = next((owners[c] for c in sorted(candidates(library)) if c in owners), None)
            if not self.expect(owner, f"{', '.join(programs)}: {library} belongs to no Debian package"):
                continue
            loaded_from.add(owner)
            self.expect(owner in closure,
                        f"{', '.join(programs)}: {library} comes from {owner}, which no `# runtime` package of "
                        "deploy/debian-packages.txt brings in: tag it `# runtime`")
        for package in runtime:
            self.expect(package in loaded_from,
                        f"deploy/debian-packages.txt: {package} (# runtime): no program loads a library of it "
                        f"(ldd); the runtime images need not install it")
        self.done()


class DockerfileTest(Checks):
    """deploy/Dockerfile: the stages, users, ports, health checks, volumes (the
    key store's among them) and the programs' flags; .dockerignore admits what
    the build reads."""

    def setUp(self):
        super().setUp()
        self.dockerfile = Dockerfile(src("deploy", "Dockerfile"))

    def test_stages(self):
        d = self.dockerfile
        names = [s.name for s in d.stages]
        for s in d.stages:
            self.expect(s.base == "debian:bookworm" or s.base in names,
                        f"{d.where(s)}: FROM {s.base}: every stage starts from debian:bookworm or another stage")
        self.expect("build" in names, f"{rel(d.path)}: no stage named build")
        build = d.stage("build")
        built = set()
        if build:
            for run in build.all("RUN"):
                for m in re.finditer(r"--target((?:\s+[A-Za-z0-9_-]+)+)", run.args):
                    built |= set(m.group(1).split())
        for target, program in TARGET_PROGRAM.items():
            stage = d.stage(target)
            if not self.expect(stage, f"{rel(d.path)}: no target named {target}"):
                continue
            copied = copied_programs(d, target)
            for needed in (program, "psc"):
                self.expect(needed in copied, f"{d.where(stage)}: does not copy {needed} to /usr/local/bin")
                self.expect(needed in built, f"{rel(d.path)}: stage build does not build {needed} "
                                             f"(cmake --build --target ...)")
        self.done()

    def test_runtime_targets(self):
        d = self.dockerfile
        health_flags = accepted_flags("psc", "health")
        for target, program in TARGET_PROGRAM.items():
            stage = d.stage(target)
            if stage is None:
                self.problems.append(f"{rel(d.path)}: no target named {target}")
                continue
            where = d.where(stage)
            user = d.inherited(target, "USER")
            if self.expect(user, f"{where}: no USER: the image would run as root"):
                uid = user.args.split(":")[0]
                self.expect(uid.isdigit() and int(uid) != 0,
                            f"{d.where(stage, user)}: USER {user.args}: must be a numeric non-root uid "
                            "(Kubernetes' runAsNonRoot can only verify a number)")
            entrypoint = d.inherited(target, "ENTRYPOINT")
            entry = entrypoint.json_args() if entrypoint else None
            if not self.expect(entry and entry[0] == program,
                               f"{where}: ENTRYPOINT must be [\"{program}\"] in exec form"):
                continue
            cmd = d.inherited(target, "CMD")
            args = (cmd.json_args() or []) if cmd else []
            self.expect(cmd and cmd.json_args() is not None, f"{where}: CMD must be in exec form")
            values = parse_command_line(entry[1:] + args, accepted_flags(program), f"{where}: CMD", self.problems)
            listen, metrics = port_of(values.get("listen")), port_of(values.get("metrics-listen"))
            self.expect(listen == GRPC_PORT[program], f"{where}: CMD --listen {values.get('listen')}: "
                                                       f"expected 0.0.0.0:{GRPC_PORT[program]}")
            self.expect(metrics == METRICS_PORT, f"{where}: CMD --metrics-listen {values.get('metrics-listen')}: "
                                                 f"expected 0.0.0.0:{METRICS_PORT}")
            for flag in ("listen", "metrics-listen"):
                self.expect(host_of(values.get(flag)) == "0.0.0.0",
                            f"{where}: CMD --{flag} {values.get(flag)}: must listen on 0.0.0.0 in a container")
            check_server_access(values, f"{where}: CMD", self.problems)
            exposed = set()
            for expose in d.gathered(target, "EXPOSE"):
                exposed |= {int(p.split("/")[0]) for p in expose.args.split()}
            for port in (listen, metrics):
                self.expect(port in exposed, f"{where}: EXPOSE lacks {port} (exposed: {sorted(exposed)})")
            health = d.inherited(target, "HEALTHCHECK")
            command = healthcheck_command(health) if health else None
            if self.expect(command and command[:2] == ["psc", "health"],
                           f"{where}: HEALTHCHECK must run [\"psc\", \"health\", ...] in exec form"):
                at = f"{d.where(stage, health)}: HEALTHCHECK"
                hv = parse_command_line(command[2:], health_flags, at, self.problems)
                m = re.search(r"--timeout=(\S+)", health.args)
                check_health_command(hv, values, at, self.problems,
                                     limit=seconds(m.group(1) if m else "30s"), limit_field=f"{at} --timeout")
            if "data-dir" in values or program != "psc-gateway":
                volumes = set()
                for v in d.gathered(target, "VOLUME"):
                    volumes |= set(v.json_args() or v.args.split())
                self.expect(values.get("data-dir") in volumes,
                            f"{where}: --data-dir {values.get('data-dir')} is not a VOLUME ({sorted(volumes)})")
        self.done()

    def test_key_store_is_a_volume_the_gateway_can_write(self):
        # Gateway and projection pass --key-store KEY_STORE, a VOLUME of
        # their image, made before USER and VOLUME, owned by the image's user
        # with mode 0700: a named volume first mounted there takes that
        # ownership, and the gateway (not root) writes it. pscd's key store
        # (by default DATA_DIR/keys) lies on a VOLUME too.
        d = self.dockerfile
        for target, program in TARGET_PROGRAM.items():
            stage = d.stage(target)
            entrypoint = d.inherited(target, "ENTRYPOINT") if stage else None
            cmd = d.inherited(target, "CMD") if stage else None
            if stage is None or entrypoint is None or cmd is None:
                continue  # test_runtime_targets says so
            where = f"{d.where(stage, cmd)}: CMD"
            values = parse_command_line((entrypoint.json_args() or [])[1:] + (cmd.json_args() or []),
                                        accepted_flags(program), where, [])
            volumes = {}  # path -> the VOLUME instruction declaring it
            for v in d.gathered(target, "VOLUME"):
                for path in v.json_args() or v.args.split():
                    volumes.setdefault(str(path).rstrip("/"), v)
            if program not in KEY_STORE_PROGRAMS:
                store = values.get("key-store") or (values.get("data-dir", "") + "/keys")
                self.expect(store in volumes or mounted_at(store, volumes),
                            f"{where}: {program}'s key store {store} (--key-store, by default DATA_DIR/keys) is "
                            f"not on a VOLUME ({sorted(volumes)}): the keys, and with them learning text, would go "
                            "with the container")
                continue
            store = values.get("key-store")
            if not self.expect(store == KEY_STORE,
                               f"{where}: --key-store {store}: expected {KEY_STORE}, the folder every gateway and "
                               "projection shares (without it the gateway keeps keys in DATA_DIR/keys and the "
                               "projection shows learning without its text)"):
                continue
            self.expect(KEY_STORE in volumes, f"{d.where(stage)}: VOLUME lacks {KEY_STORE} (--key-store): "
                                              f"declared: {sorted(volumes)}")
            made = folder_made(d, target, KEY_STORE)
            if not self.expect(made, f"{d.where(stage)}: no RUN makes {KEY_STORE} (install -d -o psc -g psc -m "
                                     "0700): a volume mounted there would belong to root and the gateway could "
                                     "not write it"):
                continue
            order = linear_instructions(d, target)
            user = d.inherited(target, "USER")
            uid = user.args.split(":")[0] if user else None
            users, groups = user_ids(d, target)
            owner = group = mode = None
            for run, run_stage, o, g, m in made:
                at = f"{d.where(run_stage, run)}: RUN"
                owner, group, mode = o or owner, g or group, m or mode
                if user in order:
                    self.expect(order.index(run) < order.index(user),
                                f"{at} makes {KEY_STORE} after USER {user.args} (line {user.line}): only root "
                                f"can make and hand over a folder in {os.path.dirname(KEY_STORE)}")
                volume = volumes.get(KEY_STORE)
                if volume in order:
                    self.expect(order.index(run) < order.index(volume),
                                f"{at} changes {KEY_STORE} after VOLUME (line {volume.line}): changes to a "
                                "volume after it is declared are discarded")
            at = f"{d.where(made[-1][1], made[-1][0])}: RUN"
            owner_id = users.get(owner, int(owner) if str(owner).isdigit() else None)
            group_id = groups.get(group, int(group) if str(group).isdigit() else None)
            self.expect(str(uid).isdigit() and owner_id == int(uid),
                        f"{at}: {KEY_STORE} is owned by {f'{owner} (uid {owner_id})' if owner else 'root'}, not "
                        f"the image's user (USER {user.args if user else None}): the gateway could not write it")
            self.expect(group_id == CONTAINER_UID,
                        f"{at}: {KEY_STORE}'s group is {f'{group} (gid {group_id})' if group else 'root'}, "
                        f"expected {CONTAINER_UID}")
            try:
                mode_bits = int(str(mode), 8)
            except ValueError:
                mode_bits = None
            self.expect(mode_bits == KEY_STORE_MODE,
                        f"{at}: {KEY_STORE} mode {mode}: expected {KEY_STORE_MODE:04o} (the keys are for the "
                        "programs' user alone; psc-gateway sets 0700 itself)")
        # Gateway and projection share the runtime stage: say each problem
        # of it once.
        self.problems = list(dict.fromkeys(self.problems))
        self.done()

    def test_keys_and_policy_are_not_in_the_images(self):
        # Mounted when a container runs: no stage copies anything where the
        # servers read them.
        d = self.dockerfile
        for stage in d.stages:
            for instruction in stage.all("COPY") + stage.all("ADD"):
                words = [w for w in instruction.args.split() if not w.startswith("--")]
                if words and (words[-1].rstrip("/") == CONTAINER_SECRETS_ROOT
                              or words[-1].startswith(CONTAINER_SECRETS_ROOT + "/")):
                    self.problems.append(f"{d.where(stage, instruction)}: {instruction.keyword} to {words[-1]}: keys "
                                         f"and the access policy are mounted at run time ({CONTAINER_SECRETS_ROOT}), "
                                         "never part of an image")
        self.done()

    def test_dockerignore_admits_what_the_build_reads(self):
        rules = []
        with open(src(".dockerignore"), encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith("#"):
                    negate = line.startswith("!")
                    rules.append((negate, line.lstrip("!").strip("/")))

        def regex(pattern):
            out = ""
            i = 0
            while i < len(pattern):
                if pattern.startswith("**/", i):
                    out += "(?:.*/)?"
                    i += 3
                elif pattern.startswith("**", i):
                    out += ".*"
                    i += 2
                elif pattern[i] == "*":
                    out += "[^/]*"
                    i += 1
                elif pattern[i] == "?":
                    out += "[^/]"
                    i += 1
                else:
                    out += re.escape(pattern[i])
                    i += 1
            return re.compile(out)

        compiled = [(negate, regex(p)) for negate, p in rules]

        def ignored(path):
            parts = path.split("/")
            result = False
            for negate, pattern in compiled:
                if any(pattern.fullmatch("/".join(parts[:k])) for k in range(1, len(parts) + 1)):
                    result = not negate
            return result

        # What the Dockerfile names from the context.
        d = self.dockerfile
        for stage in d.stages:
            for copy in stage.all("COPY"):
                words = copy.args.split()
                if any(w.startswith("--from") for w in words):
                    continue
                for source in [w for w in words[:-1] if not w.startswith("--")]:
                    if source != ".":
                        self.expect(not ignored(source), f"{d.where(stage, copy)}: COPY {source}: .dockerignore excludes it")
            for run in stage.all("RUN"):
                for mount in run_mounts(run)[0]:
                    if mount.get("type") == "bind" and "from" not in mount:
                        self.expect(not ignored(mount.get("source", ".")),
                                    f"{d.where(stage, run)}: --mount source {mount.get('source')}: .dockerignore excludes it")
        # What CMake reads: every CMakeLists.txt reachable by add_subdirectory
        # and every include(); then every file in those folders it names.
        todo, seen = ["."], set()
        while todo:
            folder = os.path.normpath(todo.pop())
            if folder in seen:
                continue
            seen.add(folder)
            lists = os.path.normpath(os.path.join(folder, "CMakeLists.txt"))
            self.expect(not ignored(lists), f".dockerignore: excludes {lists}, which the build reads")
            with open(src(lists), encoding="utf-8") as f:
                text = f.read()
            for m in re.finditer(r"add_subdirectory\(\s*([^\s)]+)", text):
                todo.append(os.path.join(folder, m.group(1)))
            for m in re.finditer(r"include\(\s*(cmake/[^\s)]+)", text):
                self.expect(not ignored(m.group(1)), f".dockerignore: excludes {m.group(1)}, which the build reads")
        for folder in sorted(seen):
            for name in os.listdir(src(folder)):
                path = os.path.normpath(os.path.join(folder, name))
                if os.path.isfile(src(path)) and re.search(r"\.(cc|h|proto|txt|cmake)$", name):
                    self.expect(not ignored(path), f".dockerignore: excludes {path}, which the build reads")
        for unwanted in ("build", ".git", "build-release/bin/pscd", "deploy/secrets/tls/server.key",
                         "deploy/secrets/ca.key"):
            self.expect(ignored(unwanted), f".dockerignore: should keep {unwanted} out of the build context")
        self.done()


class Compose:
    """deploy/compose.yaml, read; problems found while reading go to
    `problems`."""

    def __init__(self, problems):
        self.problems = problems
        self.path = src("deploy", "compose.yaml")
        self.where = rel(self.path)
        (self.document,) = load_yaml_documents(self.path)
        self.services = self.document.get("services") or {}
        self.dockerfile = Dockerfile(src("deploy", "Dockerfile"))

    def program_of(self, name):
        """(program, args) of a service built from deploy/Dockerfile."""
        service = self.services[name]
        build = service.get("build")
        if not isinstance(build, dict):
            return None, []
        target = build.get("target")
        entry = self.dockerfile.inherited(target, "ENTRYPOINT") if self.dockerfile.stage(target) else None
        entry = (entry.json_args() or []) if entry else []
        if service.get("entrypoint"):
            program = os.path.basename(str(service["entrypoint"][0]))
        else:
            program = entry[0] if entry else None
        command = service.get("command")
        if command is None:
            cmd = self.dockerfile.inherited(target, "CMD") if self.dockerfile.stage(target) else None
            command = (cmd.json_args() or []) if cmd else []
        elif isinstance(command, str):
            command = shlex.split(command)
        return program, [str(c) for c in command]

    def values(self, name):
        """(program, {flag: value}) of a service built from deploy/Dockerfile."""
        program, args = self.program_of(name)
        if program is None:
            return None, {}
        if not os.path.exists(os.path.join(BIN_DIR, program)):
            self.problems.append(f"{self.where}: services.{name}: runs {program}, which this project does not build")
            return program, {}
        where = f"{self.where}: services.{name}.command"
        return program, parse_command_line(args, accepted_flags(program), where, self.problems)

    def depends_on(self, name):
        depends = self.services[name].get("depends_on") or {}
        if isinstance(depends, list):
            return {d: {"condition": "service_started"} for d in depends}
        return depends

    def published(self, name):
        ports = set()
        for p in self.services[name].get("ports") or []:
            if isinstance(p, dict):
                ports.add(int(p.get("target")))
            else:
                ports.add(int(str(p).split("/")[0].split(":")[-1]))
        return ports

    def mounts(self, name):
        """[(source, target)] of a service's volumes."""
        return [(source, target) for source, target, _ in self.mount_entries(name)]

    def mount_entries(self, name):
        """[(source, target, read_only)] of a service's volumes."""
        out = []
        for v in self.services[name].get("volumes") or []:
            if isinstance(v, dict):
                out.append((str(v.get("source")), str(v.get("target")), v.get("read_only") is True))
            else:
                parts = str(v).split(":")
                options = parts[2].split(",") if len(parts) > 2 else []
                out.append((parts[0], parts[1] if len(parts) > 1 else parts[0], "ro" in options))
        return out

    def host_path(self, source):
        """A bind mount's source as a path on the host (relative to this
        file's folder), or None for a named volume."""
        if not source.startswith((".", "/")):
            return None
        return os.path.normpath(os.path.join(os.path.dirname(self.path), source))

    def mounted_files(self, name, values, health):
        """{what: (path in the container, volumes entry (source, target,
        read_only) it lies in, or None)} for the files a service's server
        (`values`) and its health check (`health`) read."""
        files = {f"command --{flag}": path for flag, path in values.items() if flag in CONTAINER_FILES}
        if health.get("tls-ca"):
            files["healthcheck.test --tls-ca"] = health["tls-ca"]
        entries = self.mount_entries(name)
        out = {}
        for what, path in files.items():
            target = mounted_at(path, [t for _, t, _ in entries])
            out[what] = (path, next((e for e in entries if e[1].rstrip("/") == target), None))
        return out


class ComposeTest(Checks):
    """deploy/compose.yaml: the built targets, flags, ports, health checks,
    volumes (the key store one volume gateway and projection share) and the
    Kafka topic."""

    def setUp(self):
        super().setUp()
        self.c = Compose(self.problems)
        self.where = self.c.where
        self.path = self.c.path
        self.services = self.c.services
        self.compose = self.c.document
        self.dockerfile = self.c.dockerfile
        self.values = self.c.values
        self.published = self.c.published
        self.mounts = self.c.mounts

    def test_services_build_existing_targets_with_accepted_flags(self):
        stages = {s.name for s in self.dockerfile.stages if s.name}
        programs = {}
        for name, service in self.services.items():
            build = service.get("build")
            if build is None:
                self.expect(service.get("image"), f"{self.where}: services.{name}: neither build nor image")
                continue
            if not self.expect(isinstance(build, dict), f"{self.where}: services.{name}.build: use context, dockerfile, target"):
                continue
            context = os.path.normpath(os.path.join(os.path.dirname(self.path), build.get("context", ".")))
            self.expect(context == os.path.normpath(SOURCE_DIR),
                        f"{self.where}: services.{name}.build.context: {build.get('context')} is not the repository root")
            dockerfile = os.path.join(context, build.get("dockerfile", "Dockerfile"))
            self.expect(os.path.normpath(dockerfile) == os.path.normpath(src("deploy", "Dockerfile")),
                        f"{self.where}: services.{name}.build.dockerfile: {build.get('dockerfile')} is not deploy/Dockerfile")
            self.expect(build.get("target") in stages,
                        f"{self.where}: services.{name}.build.target: {build.get('target')} is not a stage of "
                        f"deploy/Dockerfile ({sorted(stages)})")
            program, values = self.values(name)
            programs[program] = name
            if program not in GRPC_PORT:
                self.problems.append(f"{self.where}: services.{name}: runs {program}, not one of {sorted(GRPC_PORT)}")
                continue
            listen = port_of(values.get("listen"))
            self.expect(values.get("listen") == f"0.0.0.0:{GRPC_PORT[program]}",
                        f"{self.where}: services.{name}.command: --listen {values.get('listen')}: "
                        f"expected 0.0.0.0:{GRPC_PORT[program]}")
            self.expect(values.get("metrics-listen") == f"0.0.0.0:{METRICS_PORT}",
                        f"{self.where}: services.{name}.command: --metrics-listen {values.get('metrics-listen')}: "
                        f"expected 0.0.0.0:{METRICS_PORT}, the port Prometheus scrapes")
            self.expect(listen in self.published(name),
                        f"{self.where}: services.{name}.ports: the gRPC port {listen} is not published")
            self.expect(values.get("kafka-brokers"),
                        f"{self.where}: services.{name}.command: no --kafka-brokers: the split programs run on Kafka")
            for broker in str(values.get("kafka-brokers", "")).split(","):
                host, port = host_of(broker), port_of(broker)
                if not self.expect(host in self.services,
                                   f"{self.where}: services.{name}.command: --kafka-brokers {broker}: no service {host}"):
                    continue
                env = self.services[host].get("environment") or {}
                self.expect(f"//{host}:{port}" in str(env.get("KAFKA_ADVERTISED_LISTENERS", "")),
                            f"{self.where}: services.{host}.environment.KAFKA_ADVERTISED_LISTENERS does not "
                            f"advertise {broker}, which services.{name} connects to")
            check_server_access(values, f"{self.where}: services.{name}.command", self.problems)
            health = (service.get("healthcheck") or {}).get("test")
            hv = {}
            if self.expect(isinstance(health, list) and health[:3] == ["CMD", "psc", "health"],
                           f"{self.where}: services.{name}.healthcheck.test: expected [CMD, psc, health, ...]"):
                at = f"{self.where}: services.{name}.healthcheck"
                hv = parse_command_line(health[3:], accepted_flags("psc", "health"), f"{at}.test", self.problems)
                check_health_command(hv, values, f"{at}.test", self.problems,
                                     limit=seconds(service["healthcheck"].get("timeout", "30s")),
                                     limit_field=f"{at}.timeout")
            # The image holds neither keys nor policy: the service mounts
            # them, read-only, from a folder on the host, kept out of git.
            checked = set()
            for what, (path, entry) in self.c.mounted_files(name, values, hv).items():
                if not self.expect(entry, f"{self.where}: services.{name}.volumes: nothing is mounted at "
                                          f"{os.path.dirname(path)}, where {what} {path} lies"):
                    continue
                if entry in checked:
                    continue
                checked.add(entry)
                source, target, read_only = entry
                at = f"{self.where}: services.{name}.volumes {source}:{target}"
                host = self.c.host_path(source)
                if self.expect(host, f"{at}: a named volume, which starts empty: mount the host folder "
                                     f"`./dev pki` fills ({what} {path})"):
                    self.expect(ignored_by_git(os.path.relpath(host, SOURCE_DIR)),
                                f"{at}: .gitignore must keep {rel(host)} out of git (keys and the policy)")
                self.expect(read_only, f"{at}: mount it read-only (:ro); the server only reads {path}")
            grace = str(service.get("stop_grace_period", "10s"))
            m = re.fullmatch(r"(\d+)s", grace)
            self.expect(m and int(m.group(1)) > DRAIN_SECONDS,
                        f"{self.where}: services.{name}.stop_grace_period {grace}: must exceed the {DRAIN_SECONDS} s drain")
            if program == "psc-projection":
                data = values.get("data-dir")
                named = {s for s, t in self.mounts(name) if t == data and not s.startswith((".", "/"))}
                self.expect(named and named <= set(self.compose.get("volumes") or {}),
                            f"{self.where}: services.{name}.volumes: --data-dir {data} is not on a named volume "
                            "declared under volumes:")
        for program in ("psc-gateway", "psc-projection"):
            self.expect(program in programs, f"{self.where}: no service runs {program}")
        self.done()

    def test_key_store_is_one_named_volume(self):
        # Gateway and projection pass --key-store KEY_STORE and mount there
        # the SAME named volume, declared under volumes: read-write in the
        # gateway (it creates and destroys keys), read-only in the
        # projection. A volume of the one and not the other, or the
        # gateway's writable layer, and the projection shows learning as
        # sealed or erased.
        used = {}  # named volume -> [services]
        programs = set()
        declared = set(self.compose.get("volumes") or {})
        for name, service in self.services.items():
            program, values = self.values(name)
            if program not in KEY_STORE_PROGRAMS:
                continue
            programs.add(program)
            store = values.get("key-store")
            if not self.expect(store == KEY_STORE,
                               f"{self.where}: services.{name}.command: --key-store {store}: expected {KEY_STORE}, "
                               "the folder gateway and projection share"):
                continue
            entries = self.c.mount_entries(name)
            at_store = [i for i, (_, target, _) in enumerate(entries) if target.rstrip("/") == KEY_STORE]
            if not self.expect(len(at_store) == 1,
                               f"{self.where}: services.{name}.volumes: {len(at_store)} mounts at {KEY_STORE} "
                               "(--key-store): expected one, the named volume of the key store (without it the "
                               "image's VOLUME gives each container a volume of its own)"):
                continue
            i = at_store[0]
            raw = service["volumes"][i]
            source, _, read_only = entries[i]
            at = f"{self.where}: services.{name}.volumes[{i}] {source}:{KEY_STORE}"
            if not self.expect(self.c.host_path(source) is None and source in declared,
                               f"{at}: not a named volume declared under volumes: ({sorted(declared)})"):
                continue
            used.setdefault(source, []).append(name)
            if program in KEY_STORE_WRITERS:
                self.expect(not read_only, f"{at}: read-only, but {program} creates and destroys keys there")
                if isinstance(raw, dict):
                    nocopy = (raw.get("volume") or {}).get("nocopy") is True
                else:
                    nocopy = "nocopy" in (str(raw).split(":") + [""] * 3)[2].split(",")
                self.expect(not nocopy, f"{at}: nocopy: the volume would not take the image folder's owner "
                                        f"(uid {CONTAINER_UID}) and {program} could not write it")
            else:
                self.expect(read_only, f"{at}: mount it read-only (:ro); {program} only reads the keys")
        for program in sorted(KEY_STORE_PROGRAMS - programs):
            self.problems.append(f"{self.where}: no service runs {program}")
        self.expect(len(used) <= 1, f"{self.where}: services mount different volumes at {KEY_STORE}: "
                                    f"{used}; gateway and projection must share one")
        self.done()

    def test_dev_pki_makes_what_the_services_mount(self):
        # `./dev pki deploy/secrets` (the compose file's first step), run in
        # a temporary folder standing for deploy/secrets: every file a
        # service's server and health check read is there, readable by the
        # containers' user, the certificates fit together and name every
        # address they are reached at, and the client certificate is a
        # principal of the policy.
        if not self.expect(shutil.which("openssl"), "./dev pki: openssl is not installed "
                                                    "(deploy/debian-packages.txt lists it; ./dev deps)"):
            self.done()
            return
        secrets_dir = src("deploy", "secrets")
        with tempfile.TemporaryDirectory() as tmp:
            made = os.path.join(tmp, "secrets")
            run = subprocess.run([src("dev"), "pki", made], capture_output=True, text=True, timeout=120)
            if not self.expect(run.returncode == 0, f"./dev pki DIR exited {run.returncode}: {run.stderr}"):
                self.done()
                return

            def host_file(source, target, path):
                """Where `./dev pki` put the file a mount shows at `path`."""
                inside = os.path.relpath(os.path.join(self.c.host_path(source), os.path.relpath(path, target)),
                                         secrets_dir)
                return None if inside.startswith("..") else os.path.join(made, inside)

            mounted_sources = set()
            programs = []
            for name in self.services:
                program, values = self.values(name)
                if program is None:
                    continue
                programs.append(name)
                health = (self.services[name].get("healthcheck") or {}).get("test") or []
                hv = parse_command_line(health[3:], accepted_flags("psc", "health"), "", []) if health[:3] == [
                    "CMD", "psc", "health"] else {}
                for what, (path, entry) in self.c.mounted_files(name, values, hv).items():
                    if entry is None or not self.c.host_path(entry[0]):
                        continue  # test_services_build_existing_targets_with_accepted_flags says so
                    source, target, _ = entry
                    at = f"{self.where}: services.{name}.volumes {source}:{target}"
                    file = host_file(source, target, path)
                    if not self.expect(file, f"{at}: {what} {path} is not inside deploy/secrets, which "
                                             "`./dev pki deploy/secrets` fills"):
                        continue
                    mounted_sources.add(os.path.dirname(file))
                    shown = os.path.join("deploy", "secrets", os.path.relpath(file, made))
                    if not self.expect(os.path.isfile(file), f"{at}: {what} {path} is {shown} on the host, which "
                                                             "`./dev pki deploy/secrets` does not make"):
                        continue
                    self.expect(os.stat(file).st_mode & 0o004,
                                f"./dev pki: {shown} is not readable by others: the containers' user "
                                f"(uid {CONTAINER_UID}) cannot read it ({what} {path}, services.{name})")
            # No private key but the server's in a mounted folder (the CA's
            # key and the clients' stay outside).
            for folder in sorted(mounted_sources):
                for entry in sorted(os.listdir(folder)):
                    if not os.path.isfile(os.path.join(folder, entry)):
                        continue
                    with open(os.path.join(folder, entry), "rb") as f:
                        private = b"PRIVATE KEY" in f.read()
                    shown = os.path.join("deploy", "secrets", os.path.relpath(os.path.join(folder, entry), made))
                    self.expect(not private or entry == os.path.basename(CONTAINER_FILES["tls-key"]),
                                f"./dev pki: {shown} is a private key in a folder {self.where} mounts into the "
                                "containers: only the server's key belongs there")
            tls = os.path.join(made, "tls")
            ca, server = os.path.join(tls, "ca.pem"), os.path.join(tls, "server.pem")
            client = os.path.join(made, f"{PKI_CLIENT}.pem")
            for cert in (server, client):
                verify = subprocess.run(["openssl", "verify", "-CAfile", ca, cert], capture_output=True, text=True)
                self.expect(verify.returncode == 0, f"./dev pki: {os.path.relpath(cert, made)} is not signed by "
                                                    f"tls/ca.pem: {verify.stdout}{verify.stderr}")
            san = subprocess.run(["openssl", "x509", "-noout", "-ext", "subjectAltName", "-in", server],
                                 capture_output=True, text=True).stdout
            names = {n.strip().replace("IP Address:", "IP:") for n in "".join(san.splitlines()[1:]).split(",")}
            # Reached at: the health checks (127.0.0.1), the published ports
            # (localhost), the compose services by name and the Kubernetes
            # Services of the servers, short and namespaced.
            wanted = {"IP:127.0.0.1", "DNS:localhost"} | {f"DNS:{n}" for n in programs}
            for svc in (o for o in k8s_objects() if o.get("kind") == "Service"
                        and (o["metadata"].get("labels") or {}).get("app.kubernetes.io/component") == "api"):
                wanted |= {f"DNS:{svc['metadata']['name']}", f"DNS:{svc['metadata']['name']}.{NAMESPACE}.svc"}
            self.expect(wanted <= names, f"./dev pki: tls/server.pem subjectAltName lacks {sorted(wanted - names)} "
                                         f"(it has {sorted(names)})")
            subject = subprocess.run(["openssl", "x509", "-noout", "-subject", "-nameopt", "RFC2253", "-in", client],
                                     capture_output=True, text=True).stdout
            m = re.search(r"CN=([^,\n]+)", subject)
            cn = m.group(1) if m else None
            try:
                with open(os.path.join(made, "policy", "policy.json"), encoding="utf-8") as f:
                    policy = json.load(f)
            except (OSError, ValueError) as e:
                self.problems.append(f"./dev pki: policy/policy.json: {e}")
                policy = {}
            subjects = {p.get("certificateSubject") for p in policy.get("principals") or []}
            self.expect(cn and cn in subjects, f"./dev pki: {PKI_CLIENT}.pem (CN {cn}) is no principal's "
                                               "certificateSubject in policy/policy.json "
                                               f"({sorted(map(str, subjects))})")
        self.done()

    def test_kafka_is_kraft_and_the_topic_is_one_partition_kept_forever(self):
        kafka = {n: s for n, s in self.services.items() if image_repository(s.get("image", "")) == KAFKA_IMAGE}
        broker = [n for n, s in kafka.items() if not s.get("entrypoint")]
        if self.expect(len(broker) == 1, f"{self.where}: expected one Kafka broker service, found {broker}"):
            env = {k: str(v) for k, v in (self.services[broker[0]].get("environment") or {}).items()}
            at = f"{self.where}: services.{broker[0]}.environment"
            self.expect(set(env.get("KAFKA_PROCESS_ROLES", "").split(",")) == {"broker", "controller"},
                        f"{at}.KAFKA_PROCESS_ROLES: expected broker,controller (KRaft, combined)")
            self.expect(re.fullmatch(rf"\d+@{broker[0]}:{KAFKA_CONTROLLER_PORT}", env.get("KAFKA_CONTROLLER_QUORUM_VOTERS", "")),
                        f"{at}.KAFKA_CONTROLLER_QUORUM_VOTERS: expected ID@{broker[0]}:{KAFKA_CONTROLLER_PORT}")
            self.expect(f"CONTROLLER://0.0.0.0:{KAFKA_CONTROLLER_PORT}" in env.get("KAFKA_LISTENERS", "")
                        and f"PLAINTEXT://0.0.0.0:{KAFKA_CLIENT_PORT}" in env.get("KAFKA_LISTENERS", ""),
                        f"{at}.KAFKA_LISTENERS: expected PLAINTEXT on {KAFKA_CLIENT_PORT} and CONTROLLER on {KAFKA_CONTROLLER_PORT}")
            self.expect(env.get("KAFKA_AUTO_CREATE_TOPICS_ENABLE") == "false",
                        f"{at}.KAFKA_AUTO_CREATE_TOPICS_ENABLE: must be false (a topic created by a client "
                        "would get the broker's defaults)")
            self.expect((self.services[broker[0]].get("healthcheck") or {}).get("test"),
                        f"{self.where}: services.{broker[0]}.healthcheck: needed for the topic init to wait on")
        init = [n for n, s in kafka.items() if s.get("entrypoint")]
        if not self.expect(len(init) == 1, f"{self.where}: expected one topic init service (apache/kafka with "
                                           f"entrypoint kafka-topics.sh), found {init}"):
            self.done()
            return
        name = init[0]
        service = self.services[name]
        at = f"{self.where}: services.{name}"
        self.expect(str(service["entrypoint"][0]).endswith("/kafka-topics.sh"), f"{at}.entrypoint: expected kafka-topics.sh")
        topic = check_topic_creation([str(a) for a in service.get("command") or []], f"{at}.command", self.problems)
        self.expect((self.c.depends_on(name).get(broker[0] if broker else "kafka") or {}).get("condition") == "service_healthy",
                    f"{at}.depends_on: must wait for the broker to be service_healthy")
        for other in self.services:
            program, values = self.values(other)
            if program is None:
                continue
            self.expect(values.get("kafka-topic", DEFAULT_TOPIC) == topic,
                        f"{self.where}: services.{other}.command: --kafka-topic "
                        f"{values.get('kafka-topic', DEFAULT_TOPIC)} is not the topic {name} creates ({topic})")
            self.expect((self.c.depends_on(other).get(name) or {}).get("condition") == "service_completed_successfully",
                        f"{self.where}: services.{other}.depends_on.{name}.condition: must be "
                        "service_completed_successfully (the topic exists before the program starts)")
        self.done()

    def test_prometheus_and_grafana_services(self):
        by_image = {}
        for name, service in self.services.items():
            by_image.setdefault(image_repository(service.get("image", "")), []).append(name)
        for image, port, mounts in (
                (PROMETHEUS_IMAGE, PROMETHEUS_PORT, {"./prometheus/prometheus.yml": "/etc/prometheus/prometheus.yml",
                                                     "./prometheus/alerts.yml": "/etc/prometheus/alerts.yml"}),
                (GRAFANA_IMAGE, GRAFANA_PORT, {"./grafana/provisioning": "/etc/grafana/provisioning",
                                               "./grafana/dashboards": "/var/lib/grafana/dashboards"})):
            names = by_image.get(image, [])
            if not self.expect(len(names) == 1, f"{self.where}: expected one service with image {image}, found {names}"):
                continue
            name = names[0]
            self.expect(re.search(r":[\w.-]+$", self.services[name]["image"]) and not self.services[name]["image"].endswith(":latest"),
                        f"{self.where}: services.{name}.image: pin a version")
            self.expect(port in self.published(name), f"{self.where}: services.{name}.ports: {port} is not published")
            have = {os.path.normpath(s): t for s, t in self.mounts(name)}
            for source, target in mounts.items():
                self.expect(have.get(os.path.normpath(source)) == target,
                            f"{self.where}: services.{name}.volumes: expected {source}:{target}")
        self.done()


def check_topic_creation(args, where, problems):
    """kafka-topics.sh arguments create one topic with 1 partition and
    unlimited retention; returns the topic."""
    options, configs = {}, {}
    i = 0
    while i < len(args):
        if args[i] == "--config" and i + 1 < len(args):
            key, _, value = args[i + 1].partition("=")
            configs[key] = value
            i += 2
        elif args[i].startswith("--") and i + 1 < len(args) and not args[i + 1].startswith("--"):
            options[args[i]] = args[i + 1]
            i += 2
        else:
            options[args[i]] = True
            i += 1
    if "--create" not in options:
        problems.append(f"{where}: no --create")
    if options.get("--partitions") != "1":
        problems.append(f"{where}: --partitions {options.get('--partitions')}: the event log needs exactly 1")
    for key in ("retention.ms", "retention.bytes"):
        if configs.get(key) != "-1":
            problems.append(f"{where}: --config {key}={configs.get(key)}: must be -1 (keep every event)")
    # The programs produce events up to 8 MiB (KafkaOptions::max_event_bytes):
    # a 4 MiB submission with its envelope; brokers default to about 1 MB.
    if not configs.get("max.message.bytes", "").isdigit() or int(configs["max.message.bytes"]) < 8 << 20:
        problems.append(f"{where}: --config max.message.bytes={configs.get('max.message.bytes')}: "
                        "must be at least 8388608 (the largest event the programs produce)")
    if not options.get("--topic"):
        problems.append(f"{where}: no --topic")
    return options.get("--topic")


class PrometheusWiringTest(Checks):
    """deploy/prometheus/prometheus.yml scrapes what compose and the
    ServiceMonitors serve (skipped until the file exists)."""

    @classmethod
    def setUpClass(cls):
        cls.path = src("deploy", "prometheus", "prometheus.yml")
        if not os.path.exists(cls.path):
            raise unittest.SkipTest("deploy/prometheus/prometheus.yml does not exist yet: "
                                    "the scrape targets cannot be checked against compose")

    def test_scrape_targets_are_the_compose_metrics_ports(self):
        (config,) = load_yaml_documents(self.path)
        compose = Compose(self.problems)
        where = rel(self.path)
        jobs = {j.get("job_name"): j for j in config.get("scrape_configs") or []}
        for job, service in (("psc-gateway", "gateway"), ("psc-projection", "projection")):
            if not self.expect(job in jobs, f"{where}: scrape_configs: no job_name {job}"):
                continue
            targets = [t for sc in jobs[job].get("static_configs") or [] for t in sc.get("targets") or []]
            self.expect(jobs[job].get("metrics_path", "/metrics") == "/metrics",
                        f"{where}: scrape_configs[{job}].metrics_path: expected /metrics")
            if not self.expect(service in compose.services, f"deploy/compose.yaml: no service {service}"):
                continue
            _, values = compose.values(service)
            want = f"{service}:{port_of(values.get('metrics-listen'))}"
            self.expect(targets == [want], f"{where}: scrape_configs[{job}].static_configs targets {targets}: "
                                           f"expected [{want}] (deploy/compose.yaml services.{service} --metrics-listen)")
        prometheus = [n for n, s in compose.services.items() if image_repository(s.get("image", "")) == PROMETHEUS_IMAGE]
        mounted = {t: s for s, t in compose.mounts(prometheus[0])} if prometheus else {}
        for rule_file in config.get("rule_files") or []:
            inside = rule_file if rule_file.startswith("/") else os.path.join("/etc/prometheus", rule_file)
            source = mounted.get(inside)
            if self.expect(source, f"{where}: rule_files: {rule_file} ({inside}) is not mounted into the "
                                   "prometheus service (deploy/compose.yaml)"):
                self.expect(os.path.exists(os.path.join(src("deploy"), source)),
                            f"deploy/compose.yaml: prometheus mounts {source}, which does not exist")
        # The ServiceMonitors' targets get their Service's name as job.
        services = {o["metadata"]["name"] for o in k8s_objects() if o.get("kind") == "Service"}
        scraped = set()
        for sm in (o for o in k8s_objects() if o.get("kind") == "ServiceMonitor"):
            for svc in (o for o in k8s_objects() if o.get("kind") == "Service"):
                if selects(sm["spec"].get("selector") or {}, svc["metadata"].get("labels") or {}):
                    scraped.add(svc["metadata"]["name"])
        for job in ("psc-gateway", "psc-projection"):
            self.expect(job in scraped and job in services,
                        f"k8s: no ServiceMonitor scrapes a Service named {job}, so its targets would not get "
                        f"job=\"{job}\" as in {where}")
        self.done()


class GrafanaWiringTest(Checks):
    """deploy/grafana/* points at the compose Prometheus and the mounted
    dashboards (skipped until the files exist)."""

    @classmethod
    def setUpClass(cls):
        cls.root = src("deploy", "grafana")
        if not os.path.exists(os.path.join(cls.root, "provisioning")):
            raise unittest.SkipTest("deploy/grafana/provisioning does not exist yet: "
                                    "the datasource and dashboards cannot be checked against compose")

    def test_datasource_and_dashboards(self):
        datasource = os.path.join(self.root, "provisioning", "datasources", "prometheus.yaml")
        provider = os.path.join(self.root, "provisioning", "dashboards", "psc.yaml")
        for path in (datasource, provider):
            self.expect(os.path.exists(path), f"{rel(path)} does not exist")
        if os.path.exists(datasource):
            (doc,) = load_yaml_documents(datasource)
            sources = doc.get("datasources") or []
            prometheus = [s for s in sources if s.get("uid") == "prometheus"]
            if self.expect(prometheus, f"{rel(datasource)}: datasources: none with uid prometheus"):
                self.expect(prometheus[0].get("url") == f"http://prometheus:{PROMETHEUS_PORT}",
                            f"{rel(datasource)}: datasources[uid=prometheus].url {prometheus[0].get('url')}: "
                            f"expected http://prometheus:{PROMETHEUS_PORT} (the compose service)")
        if os.path.exists(provider):
            (doc,) = load_yaml_documents(provider)
            paths = [(p.get("options") or {}).get("path") for p in doc.get("providers") or []]
            self.expect("/var/lib/grafana/dashboards" in paths,
                        f"{rel(provider)}: providers[].options.path {paths}: expected /var/lib/grafana/dashboards, "
                        "where deploy/compose.yaml mounts deploy/grafana/dashboards")
        dashboards = os.path.join(self.root, "dashboards")
        files = sorted(f for f in os.listdir(dashboards) if f.endswith(".json")) if os.path.isdir(dashboards) else []
        self.expect(files, "deploy/grafana/dashboards: no *.json dashboard")
        for name in files:
            try:
                with open(os.path.join(dashboards, name), encoding="utf-8") as f:
                    json.load(f)
            except ValueError as e:
                self.problems.append(f"deploy/grafana/dashboards/{name}: not JSON: {e}")
        self.done()


# ------------------------------------------------------------- Kubernetes

NAMESPACE = "psc"
CLUSTER_SCOPED = {"Namespace"}
_k8s_cache = []


def k8s_objects():
    if not _k8s_cache:
        folder = src("k8s")
        for name in sorted(os.listdir(folder)):
            if not name.endswith((".yaml", ".yml")) or name.startswith("kustomization."):
                continue
            for doc in load_yaml_documents(os.path.join(folder, name)):
                doc["_file"] = f"k8s/{name}"
                _k8s_cache.append(doc)
    return _k8s_cache


def ref(obj):
    return f"{obj.get('_file')}: {obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}"


def selects(selector, labels):
    """Does a label selector (matchLabels, matchExpressions, or a plain map
    as in a Service) select these labels?"""
    if not selector:
        return True
    if "matchLabels" not in selector and "matchExpressions" not in selector:
        return all(labels.get(k) == v for k, v in selector.items())
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for e in selector.get("matchExpressions") or []:
        key, op, values = e.get("key"), e.get("operator"), e.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def workloads():
    return [o for o in k8s_objects() if o.get("kind") in ("Deployment", "StatefulSet", "Job")]


def pod_spec(workload):
    return ((workload.get("spec") or {}).get("template") or {}).get("spec") or {}


def pod_labels(workload):
    return (((workload.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels") or {}


def program_of_image(image):
    name = os.path.basename(image_repository(image))
    return name if name in GRPC_PORT else None


def container_env(container, where, problems):
    """The container's environment with ConfigMap references resolved."""
    configmaps = {o["metadata"]["name"]: o.get("data") or {} for o in k8s_objects() if o.get("kind") == "ConfigMap"}
    env = {}
    for i, e in enumerate(container.get("env") or []):
        if "value" in e:
            env[e["name"]] = str(e["value"])
            continue
        key_ref = ((e.get("valueFrom") or {}).get("configMapKeyRef")) or {}
        if key_ref:
            data = configmaps.get(key_ref.get("name"))
            if data is None:
                problems.append(f"{where}.env[{i}] {e.get('name')}: no ConfigMap {key_ref.get('name')}")
            elif key_ref.get("key") not in data:
                problems.append(f"{where}.env[{i}] {e.get('name')}: ConfigMap {key_ref.get('name')} has no key "
                                f"{key_ref.get('key')}")
            else:
                env[e["name"]] = str(data[key_ref["key"]])
    return env


def program_values(workload, container, index, problems):
    """(program, {flag: value}) for a psc container, $(VAR)s expanded."""
    program = program_of_image(container.get("image", ""))
    if program is None:
        return None, {}
    where = f"{ref(workload)}: spec.template.spec.containers[{index}]"
    env = container_env(container, where, problems)
    args = [expand_env(str(a), env) for a in (container.get("command") or [])[1:] + (container.get("args") or [])]
    for a in args:
        for var in re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", a):
            problems.append(f"{where}.args: $({var}) is not in the container's env")
    return program, parse_command_line(args, accepted_flags(program), f"{where}.args", problems)


def access_proto():
    """The roles and the JSON field names of each message of
    proto/psc/v1/access.proto (the policy file's format): (roles,
    {message: {field names, lowerCamel and as written}})."""
    with open(src("proto", "psc", "v1", "access.proto"), encoding="utf-8") as f:
        text = re.sub(r"//[^\n]*", "", f.read())
    roles = set(re.findall(r"\b(ROLE_[A-Z_]+)\s*=\s*\d+", text)) - {"ROLE_UNSPECIFIED"}
    fields = {}
    for m in re.finditer(r"message\s+(\w+)\s*\{([^}]*)\}", text):
        names = set()
        for field in re.findall(r"(\w+)\s*=\s*\d+\s*;", m.group(2)):
            names |= {field, re.sub(r"_([a-z0-9])", lambda g: g.group(1).upper(), field)}
        fields[m.group(1)] = names
    return roles, fields


def declared_ports(container):
    return {p.get("name"): int(p.get("containerPort")) for p in container.get("ports") or []}


class KubernetesTest(Checks):
    """k8s/*.yaml: required fields, workloads, probes, resources, volumes (the
    key store's shared claim among them), Services, PodDisruptionBudgets,
    ServiceMonitors, NetworkPolicies, the topic Job and kustomization.yaml."""

    def test_every_object_has_its_required_fields(self):
        objects = k8s_objects()
        self.expect(objects, "k8s: no manifests")
        seen = set()
        for obj in objects:
            at = ref(obj)
            for field in ("apiVersion", "kind"):
                self.expect(obj.get(field), f"{at}: no {field}")
            meta = obj.get("metadata") or {}
            self.expect(meta.get("name"), f"{at}: no metadata.name")
            if obj.get("kind") not in CLUSTER_SCOPED:
                self.expect(meta.get("namespace") == NAMESPACE,
                            f"{at}: metadata.namespace is {meta.get('namespace')}, expected {NAMESPACE}")
            key = (obj.get("kind"), meta.get("name"))
            self.expect(key not in seen, f"{at}: defined twice")
            seen.add(key)
        self.expect(("Namespace", NAMESPACE) in seen, f"k8s: no Namespace {NAMESPACE}")
        self.done()

    def test_kustomization_lists_every_manifest(self):
        (kustomization,) = load_yaml_documents(src("k8s", "kustomization.yaml"))
        listed = set(kustomization.get("resources") or [])
        files = {n for n in os.listdir(src("k8s")) if n.endswith((".yaml", ".yml")) and not n.startswith("kustomization.")}
        for missing in sorted(files - listed):
            self.problems.append(f"k8s/kustomization.yaml: resources: {missing} is not listed")
        for extra in sorted(listed - files):
            self.problems.append(f"k8s/kustomization.yaml: resources: {extra} does not exist")
        self.expect(kustomization.get("namespace") == NAMESPACE, f"k8s/kustomization.yaml: namespace: expected {NAMESPACE}")
        self.done()

    def test_workloads(self):
        programs = {}
        for w in workloads():
            at = ref(w)
            spec = w.get("spec") or {}
            pod = pod_spec(w)
            if w["kind"] != "Job":
                self.expect(selects(spec.get("selector") or {}, pod_labels(w)) and spec.get("selector"),
                            f"{at}: spec.selector does not select spec.template.metadata.labels")
            pod_security = pod.get("securityContext") or {}
            for i, c in enumerate(pod.get("containers") or []):
                where = f"{at}: spec.template.spec.containers[{i}] ({c.get('name')})"
                resources = c.get("resources") or {}
                for kind in ("requests", "limits"):
                    for what in ("cpu", "memory"):
                        self.expect((resources.get(kind) or {}).get(what),
                                    f"{where}.resources.{kind}.{what}: missing")
                security = c.get("securityContext") or {}
                self.expect(security.get("runAsNonRoot", pod_security.get("runAsNonRoot")) is True,
                            f"{where}: runAsNonRoot is not true (pod or container securityContext)")
                uid = security.get("runAsUser", pod_security.get("runAsUser"))
                self.expect(isinstance(uid, int) and uid != 0, f"{where}: runAsUser {uid}: must be a non-root uid")
                self.expect(security.get("allowPrivilegeEscalation") is False,
                            f"{where}.securityContext.allowPrivilegeEscalation: must be false")
                self.expect(security.get("readOnlyRootFilesystem") is True,
                            f"{where}.securityContext.readOnlyRootFilesystem: must be true")
                self.expect("ALL" in ((security.get("capabilities") or {}).get("drop") or []),
                            f"{where}.securityContext.capabilities.drop: must drop ALL")
                seccomp = (security.get("seccompProfile") or pod_security.get("seccompProfile") or {}).get("type")
                self.expect(seccomp in ("RuntimeDefault", "Localhost"),
                            f"{where}: seccompProfile.type {seccomp}: expected RuntimeDefault")
                program, values = program_values(w, c, i, self.problems)
                if program is None:
                    continue
                programs.setdefault(program, []).append(w)
                ports = declared_ports(c)
                listen = port_of(values.get("listen"))
                self.expect(listen == GRPC_PORT[program] and ports.get("grpc") == listen,
                            f"{where}: --listen {values.get('listen')} and ports[name=grpc] {ports.get('grpc')} "
                            f"must both be {GRPC_PORT[program]}")
                self.expect(port_of(values.get("metrics-listen")) == METRICS_PORT and ports.get("metrics") == METRICS_PORT,
                            f"{where}: --metrics-listen {values.get('metrics-listen')} and ports[name=metrics] "
                            f"{ports.get('metrics')} must both be {METRICS_PORT}")
                check_server_access(values, f"{where}.args", self.problems)
                files = {f"args --{flag}": path for flag, path in values.items() if flag in CONTAINER_FILES}
                for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
                    if probe not in c and probe == "startupProbe":
                        continue
                    check = c.get(probe) or {}
                    command = [str(a) for a in (check.get("exec") or {}).get("command") or []]
                    if not self.expect(command[:2] == ["psc", "health"] and "grpc" not in check,
                                       f"{where}.{probe}: expected an exec probe running [psc, health, ...] (the "
                                       f"kubelet's native gRPC probes do not speak TLS), found {check}"):
                        continue
                    hv = parse_command_line(command[2:], accepted_flags("psc", "health"),
                                            f"{where}.{probe}.exec.command", self.problems)
                    ca = check_health_command(hv, values, f"{where}.{probe}.exec.command", self.problems,
                                              limit=check.get("timeoutSeconds", 1),
                                              limit_field=f"{where}.{probe}.timeoutSeconds")
                    if ca:
                        files[f"{probe} --tls-ca"] = ca
                self.check_mounted_files(w, c, where, files)
                self.expect(pod.get("terminationGracePeriodSeconds", 30) > DRAIN_SECONDS,
                            f"{at}: spec.template.spec.terminationGracePeriodSeconds must exceed the "
                            f"{DRAIN_SECONDS} s drain")
                if program == "psc-projection":
                    self.check_projection(w, c, where, values)
            if w["kind"] == "Deployment":
                self.expect((spec.get("replicas") or 1) >= 2, f"{at}: spec.replicas {spec.get('replicas')}: expected >= 2")
                self.expect((spec.get("strategy") or {}).get("type", "RollingUpdate") == "RollingUpdate",
                            f"{at}: spec.strategy.type: expected RollingUpdate")
        for program in ("psc-gateway", "psc-projection"):
            self.expect(programs.get(program), f"k8s: no workload runs {program}")
        for w in programs.get("psc-gateway", []):
            self.expect(w["kind"] == "Deployment", f"{ref(w)}: the gateway is stateless: expected a Deployment")
        for w in programs.get("psc-projection", []):
            self.expect(w["kind"] == "StatefulSet", f"{ref(w)}: the projection keeps a read model: expected a StatefulSet")
        self.done()

    def check_mounted_files(self, w, c, where, files):
        # The policy comes from the ConfigMap psc-policy, the TLS files from
        # the Secret psc-tls, each mounted read-only as a whole folder (a
        # subPath mount never sees an update), holding the file named.
        volumes = {v.get("name"): v for v in pod_spec(w).get("volumes") or []}
        mounts = c.get("volumeMounts") or []
        configmaps = {o["metadata"]["name"]: o for o in k8s_objects() if o.get("kind") == "ConfigMap"}
        checked = set()
        for what, path in files.items():
            target = mounted_at(path, [m.get("mountPath", "") for m in mounts])
            i = next((i for i, m in enumerate(mounts) if str(m.get("mountPath", "")).rstrip("/") == target), None)
            if not self.expect(i is not None, f"{where}.volumeMounts: nothing is mounted at {os.path.dirname(path)}, "
                                              f"where {what} {path} lies"):
                continue
            mount = mounts[i]
            at = f"{where}.volumeMounts[{i}] ({mount.get('mountPath')})"
            volume = volumes.get(mount.get("name")) or {}
            if what.endswith("--policy"):
                kind, field, want = "configMap", "name", K8S_POLICY_CONFIGMAP
            else:
                kind, field, want = "secret", "secretName", K8S_TLS_SECRET
            source = volume.get(kind) or {}
            if source.get(field) != want:
                if (i, kind) not in checked:
                    found = ", ".join(f"{k} {(v or {}).get('name', (v or {}).get('secretName', ''))}".strip()
                                      for k, v in volume.items() if k != "name") or "not in spec.template.spec.volumes"
                    self.problems.append(f"{at}: volume {mount.get('name')} is {found}; {what} {path} needs the "
                                         f"{kind} {want}")
                checked.add((i, kind))
                continue
            if i not in checked:
                checked.add(i)
                self.expect(mount.get("readOnly") is True, f"{at}.readOnly: must be true; the server only reads "
                                                           f"{path}")
                self.expect(not mount.get("subPath"), f"{at}.subPath: mount the whole {kind}: a subPath mount never "
                                                      "sees its updates")
                # The files belong to root (to the group fsGroup when set);
                # the server runs as a non-root user.
                mode = source.get("defaultMode", 0o644)
                fs_group = (pod_spec(w).get("securityContext") or {}).get("fsGroup")
                self.expect(isinstance(mode, int) and (mode & 0o004 or (mode & 0o040 and fs_group is not None)),
                            f"{ref(w)}: spec.template.spec.volumes[{mount.get('name')}].{kind}.defaultMode "
                            f"{oct(mode) if isinstance(mode, int) else mode}: the server's user cannot read the files "
                            "(readable by others, or by the group with securityContext.fsGroup set)")
            if source.get("items"):
                keys = {str(item.get("path")) for item in source["items"]}
            elif kind == "configMap":
                keys = set((configmaps.get(want) or {}).get("data") or {})
            else:
                keys = K8S_TLS_SECRET_KEYS
            name = os.path.relpath(path, target)
            self.expect(name in keys, f"{at}: {what} {path}: the {kind} {want} has no key {name} ({sorted(keys)})")

    def test_key_store_is_one_shared_claim(self):
        # Every gateway and projection container passes --key-store KEY_STORE
        # and mounts there, whole, the PersistentVolumeClaim
        # psc-learning-keys: read-write in the gateway (it creates and
        # destroys keys), read-only in the projection. The claim is
        # ReadWriteMany: the replicas of both run on different nodes.
        claims = {o["metadata"]["name"]: o for o in k8s_objects() if o.get("kind") == "PersistentVolumeClaim"}
        programs = set()
        for w in workloads():
            pod = pod_spec(w)
            volumes = {v.get("name"): v for v in pod.get("volumes") or []}
            templates = {(t.get("metadata") or {}).get("name")
                         for t in (w.get("spec") or {}).get("volumeClaimTemplates") or []}
            for ci, c in enumerate(pod.get("containers") or []):
                program, values = program_values(w, c, ci, [])
                if program not in KEY_STORE_PROGRAMS:
                    continue
                programs.add(program)
                where = f"{ref(w)}: spec.template.spec.containers[{ci}] ({c.get('name')})"
                store = values.get("key-store")
                if not self.expect(store == KEY_STORE,
                                   f"{where}.args: --key-store {store}: expected {KEY_STORE}, the folder every "
                                   "gateway and projection replica shares"):
                    continue
                mounts = [(i, m) for i, m in enumerate(c.get("volumeMounts") or [])
                          if str(m.get("mountPath", "")).rstrip("/") == KEY_STORE]
                if not self.expect(len(mounts) == 1, f"{where}.volumeMounts: {len(mounts)} mounts at {KEY_STORE} "
                                                     f"(--key-store): expected one, of the claim "
                                                     f"{K8S_KEY_STORE_CLAIM}"):
                    continue
                i, mount = mounts[0]
                at = f"{where}.volumeMounts[{i}] ({KEY_STORE})"
                name = mount.get("name")
                if not self.expect(name not in templates,
                                   f"{at}: volume {name} is a volumeClaimTemplate, one volume per replica; "
                                   f"expected the shared claim {K8S_KEY_STORE_CLAIM}"):
                    continue
                claim = (volumes.get(name) or {}).get("persistentVolumeClaim") or {}
                if not self.expect(claim.get("claimName") == K8S_KEY_STORE_CLAIM,
                                   f"{ref(w)}: spec.template.spec.volumes[{name}]: expected persistentVolumeClaim "
                                   f"claimName {K8S_KEY_STORE_CLAIM}, found "
                                   f"{({k: v for k, v in (volumes.get(name) or {}).items() if k != 'name'}) or 'none'}"
                                   f" (mounted at {KEY_STORE} by containers[{ci}])"):
                    continue
                self.expect(not mount.get("subPath") and not mount.get("subPathExpr"),
                            f"{at}.subPath: mount the whole claim, the one folder every replica shares")
                if program in KEY_STORE_WRITERS:
                    self.expect(mount.get("readOnly") is not True,
                                f"{at}.readOnly: must not be true; {program} creates and destroys keys there")
                    self.expect(claim.get("readOnly") is not True,
                                f"{ref(w)}: spec.template.spec.volumes[{name}].persistentVolumeClaim.readOnly: "
                                f"must not be true; {program} creates and destroys keys there")
                    fs_group = (pod.get("securityContext") or {}).get("fsGroup")
                    self.expect(fs_group == CONTAINER_UID,
                                f"{ref(w)}: spec.template.spec.securityContext.fsGroup {fs_group}: expected "
                                f"{CONTAINER_UID}, so that {program} can write the claim {K8S_KEY_STORE_CLAIM}")
                else:
                    self.expect(mount.get("readOnly") is True,
                                f"{at}.readOnly: must be true; {program} only reads the keys")
        for program in sorted(KEY_STORE_PROGRAMS - programs):
            self.problems.append(f"k8s: no workload runs {program}")
        claim = claims.get(K8S_KEY_STORE_CLAIM)
        if self.expect(claim, f"k8s: no PersistentVolumeClaim {K8S_KEY_STORE_CLAIM} (the key store)"):
            at = ref(claim)
            spec = claim.get("spec") or {}
            modes = spec.get("accessModes") or []
            self.expect("ReadWriteMany" in modes,
                        f"{at}: spec.accessModes {modes}: expected ReadWriteMany; every gateway and projection "
                        "replica, on any node, mounts it")
            self.expect(((spec.get("resources") or {}).get("requests") or {}).get("storage"),
                        f"{at}: spec.resources.requests.storage: missing")
        self.done()

    def test_policy_configmap(self):
        # The ConfigMap the servers' --policy comes from holds an access
        # policy: JSON of psc.v1.AccessPolicy with a list of principals,
        # each with a name and a role and a way to authenticate; tokens only
        # as their SHA-256.
        roles, fields = access_proto()
        found = [o for o in k8s_objects() if o.get("kind") == "ConfigMap"
                 and o["metadata"].get("name") == K8S_POLICY_CONFIGMAP]
        if not self.expect(len(found) == 1, f"k8s: expected one ConfigMap {K8S_POLICY_CONFIGMAP}, found {len(found)}"):
            self.done()
            return
        at = ref(found[0])
        key = os.path.basename(CONTAINER_FILES["policy"])
        text = (found[0].get("data") or {}).get(key)
        if not self.expect(isinstance(text, str), f"{at}: data.{key}: missing"):
            self.done()
            return
        try:
            policy = json.loads(text)
        except ValueError as e:
            self.problems.append(f"{at}: data.{key}: not JSON: {e}")
            self.done()
            return
        where = f"{at}: data.{key}"
        if not self.expect(isinstance(policy, dict), f"{where}: expected a JSON object (psc.v1.AccessPolicy)"):
            self.done()
            return
        for field in policy:
            self.expect(field in fields["AccessPolicy"], f"{where}: {field} is not a field of psc.v1.AccessPolicy "
                                                         f"({sorted(fields['AccessPolicy'])})")
        principals = policy.get("principals")
        if not self.expect(isinstance(principals, list) and principals,
                           f"{where}: principals: expected a non-empty list (without principals nobody may call)"):
            self.done()
            return
        names = []
        for i, principal in enumerate(principals):
            pat = f"{where}: principals[{i}]"
            if not self.expect(isinstance(principal, dict), f"{pat}: expected an object (psc.v1.AccessPrincipal)"):
                continue
            for field in principal:
                self.expect(field in fields["AccessPrincipal"],
                            f"{pat}: {field} is not a field of psc.v1.AccessPrincipal")
            self.expect(principal.get("name"), f"{pat}.name: missing")
            names.append(principal.get("name"))
            self.expect(principal.get("role") in roles,
                        f"{pat}.role {principal.get('role')}: expected one of {sorted(roles)}")
            token = principal.get("tokenSha256", principal.get("token_sha256"))
            self.expect(principal.get("certificateSubject", principal.get("certificate_subject")) or token,
                        f"{pat}: neither certificateSubject nor tokenSha256: it could never authenticate")
            self.expect(token is None or re.fullmatch(r"[0-9a-f]{64}", str(token)),
                        f"{pat}.tokenSha256: expected the token's SHA-256 in lowercase hex, never the token")
        self.expect(len(names) == len(set(names)), f"{where}: principals: a name is used twice ({names})")
        self.done()

    def check_projection(self, w, c, where, values):
        at = ref(w)
        spec = w.get("spec") or {}
        claims = {(t.get("metadata") or {}).get("name") for t in spec.get("volumeClaimTemplates") or []}
        self.expect(claims, f"{at}: spec.volumeClaimTemplates: none (every replica needs its own volume)")
        data = values.get("data-dir")
        mounts = {m.get("mountPath"): m.get("name") for m in c.get("volumeMounts") or []}
        self.expect(data and mounts.get(data) in claims,
                    f"{where}.volumeMounts: --data-dir {data} is not a volumeClaimTemplate's mountPath ({mounts})")
        budget = values.get("memory-budget-mib")
        limit = mib(((c.get("resources") or {}).get("limits") or {}).get("memory"))
        if self.expect(budget and budget.isdigit() and limit,
                       f"{where}: --memory-budget-mib {budget} or resources.limits.memory unreadable"):
            self.expect(limit >= 2 * int(budget),
                        f"{where}.resources.limits.memory {limit:.0f} MiB: keep it at least twice "
                        f"--memory-budget-mib {budget} (RocksDB's budget is not all the process uses)")
        headless = [s for s in k8s_objects() if s.get("kind") == "Service"
                    and s["metadata"]["name"] == spec.get("serviceName")]
        self.expect(headless and (headless[0].get("spec") or {}).get("clusterIP") == "None"
                    and selects(headless[0]["spec"].get("selector"), pod_labels(w)),
                    f"{at}: spec.serviceName {spec.get('serviceName')}: no headless Service selecting its pods")

    def test_services_select_pods_and_their_ports(self):
        for svc in (o for o in k8s_objects() if o.get("kind") == "Service"):
            at = ref(svc)
            selector = (svc.get("spec") or {}).get("selector")
            matched = [w for w in workloads() if w["kind"] != "Job" and selector and selects(selector, pod_labels(w))]
            if not self.expect(len(matched) == 1, f"{at}: spec.selector {selector} selects "
                                                  f"{[ref(w) for w in matched]}; expected one workload's pods"):
                continue
            containers = pod_spec(matched[0]).get("containers") or []
            names = {n: p for c in containers for n, p in declared_ports(c).items()}
            for i, port in enumerate(svc["spec"].get("ports") or []):
                target = port.get("targetPort", port.get("port"))
                ok = target in names if isinstance(target, str) else target in names.values()
                self.expect(ok, f"{at}: spec.ports[{i}].targetPort {target}: no such port on {ref(matched[0])}'s "
                                f"containers ({names})")
                if isinstance(target, str) and ok:
                    self.expect(port.get("name") == target, f"{at}: spec.ports[{i}].name {port.get('name')} "
                                                            f"should name the port it targets ({target})")
        self.done()

    def test_pod_disruption_budgets(self):
        covered = set()
        for pdb in (o for o in k8s_objects() if o.get("kind") == "PodDisruptionBudget"):
            at = ref(pdb)
            spec = pdb.get("spec") or {}
            matched = [w for w in workloads() if w["kind"] != "Job" and selects(spec.get("selector") or {}, pod_labels(w))]
            if not self.expect(len(matched) == 1 and spec.get("selector"),
                               f"{at}: spec.selector selects {[ref(w) for w in matched]}; expected one workload's pods"):
                continue
            replicas = (matched[0].get("spec") or {}).get("replicas", 1)
            covered.add(matched[0]["metadata"]["name"])
            if "maxUnavailable" in spec:
                down = int(spec["maxUnavailable"])
            else:
                down = replicas - int(spec.get("minAvailable", 0))
            self.expect(1 <= down < replicas, f"{at}: with {replicas} replicas it allows {down} down at once: "
                                              "expected at least 1 (drains can proceed) and fewer than all")
        for w in workloads():
            if w["kind"] != "Job":
                self.expect(w["metadata"]["name"] in covered, f"{ref(w)}: no PodDisruptionBudget selects its pods")
        self.done()

    def test_service_monitors(self):
        services = [o for o in k8s_objects() if o.get("kind") == "Service"]
        scraped = {}
        for sm in (o for o in k8s_objects() if o.get("kind") == "ServiceMonitor"):
            at = ref(sm)
            self.expect(sm.get("apiVersion") == "monitoring.coreos.com/v1", f"{at}: apiVersion: expected monitoring.coreos.com/v1")
            spec = sm.get("spec") or {}
            namespaces = (spec.get("namespaceSelector") or {}).get("matchNames") or [sm["metadata"].get("namespace")]
            selected = [s for s in services if s["metadata"].get("namespace") in namespaces
                        and selects(spec.get("selector") or {}, s["metadata"].get("labels") or {})]
            if not self.expect(selected and spec.get("selector"), f"{at}: spec.selector selects no Service"):
                continue
            for i, endpoint in enumerate(spec.get("endpoints") or []):
                self.expect(endpoint.get("path") == "/metrics", f"{at}: spec.endpoints[{i}].path: expected /metrics")
                for svc in selected:
                    ports = {p.get("name"): p for p in svc["spec"].get("ports") or []}
                    port = ports.get(endpoint.get("port"))
                    if not self.expect(port, f"{at}: spec.endpoints[{i}].port {endpoint.get('port')}: "
                                             f"{ref(svc)} has no such port ({sorted(ports)})"):
                        continue
                    pods = [w for w in workloads() if selects(svc["spec"].get("selector"), pod_labels(w))]
                    for w in pods:
                        for c in pod_spec(w).get("containers") or []:
                            target = port.get("targetPort", port.get("port"))
                            number = declared_ports(c).get(target) if isinstance(target, str) else target
                            self.expect(number == METRICS_PORT,
                                        f"{at}: spec.endpoints[{i}] reaches {ref(w)} on {number}, not the "
                                        f"--metrics-listen port {METRICS_PORT}")
                        scraped.setdefault(w["metadata"]["name"], []).append(svc["metadata"]["name"])
        for w in workloads():
            if w["kind"] != "Job":
                via = scraped.get(w["metadata"]["name"], [])
                self.expect(len(via) == 1, f"{ref(w)}: scraped through Services {via}: expected exactly one "
                                           "(none: no metrics; more: every series twice)")
        self.done()

    def test_network_policies_admit_exactly_the_gateway_from_outside(self):
        policies = [o for o in k8s_objects() if o.get("kind") == "NetworkPolicy"]
        deny = [p for p in policies if not (p["spec"].get("podSelector") or {})
                and "Ingress" in (p["spec"].get("policyTypes") or []) and not p["spec"].get("ingress")]
        self.expect(deny, "k8s: no NetworkPolicy denies all ingress by default (podSelector: {}, "
                          "policyTypes: [Ingress], no ingress rules)")
        # Who may reach each (workload, port): "anywhere", "namespace:NAME"
        # or "this namespace".
        admitted = {}
        for p in policies:
            at = ref(p)
            spec = p.get("spec") or {}
            targets = [w for w in workloads() if selects(spec.get("podSelector") or {}, pod_labels(w))]
            for r, rule in enumerate(spec.get("ingress") or []):
                sources = []
                for peer in rule.get("from") or [{"ipBlock": {"cidr": "0.0.0.0/0"}}]:
                    if "ipBlock" in peer:
                        sources.append("anywhere" if peer["ipBlock"].get("cidr") in ("0.0.0.0/0", "::/0")
                                       else f"ipBlock:{peer['ipBlock'].get('cidr')}")
                    elif "namespaceSelector" in peer:
                        labels = (peer["namespaceSelector"] or {}).get("matchLabels") or {}
                        name = labels.get("kubernetes.io/metadata.name")
                        sources.append(f"namespace:{name}" if name and len(labels) == 1 and "podSelector" not in peer
                                       else f"namespaces:{peer}")
                    elif "podSelector" in peer:
                        sources.append("this namespace" if not peer["podSelector"] else f"pods:{peer['podSelector']}")
                for w in targets:
                    ports = {n: v for c in pod_spec(w).get("containers") or [] for n, v in declared_ports(c).items()}
                    for port in rule.get("ports") or [{"port": "every port"}]:
                        number = port.get("port")
                        number = ports.get(number, number) if isinstance(number, str) else number
                        self.expect(number in ports.values(),
                                    f"{at}: spec.ingress[{r}].ports {port.get('port')}: not a port {ref(w)} declares")
                        for source in sources:
                            admitted.setdefault((w["metadata"]["name"], number), set()).add(source)
        expected = {}
        for w in workloads():
            program = None
            for c in pod_spec(w).get("containers") or []:
                program = program or program_of_image(c.get("image", ""))
            if program == "psc-gateway":
                expected[(w["metadata"]["name"], GRPC_PORT[program])] = {"anywhere"}
            elif program == "psc-projection":
                expected[(w["metadata"]["name"], GRPC_PORT[program])] = {"this namespace"}
            if program:
                expected[(w["metadata"]["name"], METRICS_PORT)] = {"namespace:monitoring"}
        for key in sorted(set(admitted) | set(expected), key=str):
            self.expect(admitted.get(key, set()) == expected.get(key, set()),
                        f"k8s/networkpolicies: {key[0]} port {key[1]} is admitted from "
                        f"{sorted(admitted.get(key, set())) or 'nowhere'}; expected "
                        f"{sorted(expected.get(key, set())) or 'nowhere'}")
        self.done()

    def test_topic_job_creates_one_partition_kept_forever(self):
        jobs = [w for w in workloads() if w["kind"] == "Job"
                and any(image_repository(c.get("image", "")) == KAFKA_IMAGE for c in pod_spec(w).get("containers") or [])]
        if not self.expect(len(jobs) == 1, f"k8s: expected one Job creating the topic with {KAFKA_IMAGE}, found {len(jobs)}"):
            self.done()
            return
        job = jobs[0]
        (c,) = pod_spec(job)["containers"]
        where = f"{ref(job)}: spec.template.spec.containers[0]"
        self.expect(str((c.get("command") or [""])[0]).endswith("/kafka-topics.sh"), f"{where}.command: expected kafka-topics.sh")
        env = container_env(c, where, self.problems)
        args = [expand_env(str(a), env) for a in c.get("args") or []]
        topic = check_topic_creation(args, f"{where}.args", self.problems)
        for w in workloads():
            for i, container in enumerate(pod_spec(w).get("containers") or []):
                program, values = program_values(w, container, i, [])
                if program:
                    self.expect(values.get("kafka-topic", DEFAULT_TOPIC) == topic,
                                f"{ref(w)}: containers[{i}] --kafka-topic {values.get('kafka-topic', DEFAULT_TOPIC)} "
                                f"is not the topic {ref(job)} creates ({topic})")
                    self.expect(values.get("kafka-brokers") == dict(zip(args, args[1:])).get("--bootstrap-server"),
                                f"{ref(w)}: containers[{i}] --kafka-brokers differs from the brokers {ref(job)} uses")
        self.done()

    def test_images_are_the_dockerfile_targets(self):
        dockerfile = Dockerfile(src("deploy", "Dockerfile"))
        for w in workloads():
            for i, c in enumerate(pod_spec(w).get("containers") or []):
                image = c.get("image", "")
                repository = image_repository(image)
                if repository in (KAFKA_IMAGE,):
                    continue
                program = program_of_image(image)
                targets = [t for t, p in TARGET_PROGRAM.items() if p == program and dockerfile.stage(t)]
                self.expect(targets, f"{ref(w)}: containers[{i}].image {image}: not an image of a deploy/Dockerfile "
                                     f"target ({', '.join(TARGET_PROGRAM.values())})")
                self.expect(re.search(r":[\w.-]+$", image) and not image.endswith(":latest"),
                            f"{ref(w)}: containers[{i}].image {image}: pin a tag")
        self.done()


class KustomizeRenderTest(Checks):
    """`kubectl kustomize k8s/` renders exactly the objects of k8s/*.yaml
    (skipped without kubectl)."""

    @classmethod
    def setUpClass(cls):
        if subprocess.run(["sh", "-c", "command -v kubectl"], capture_output=True).returncode != 0:
            raise unittest.SkipTest("kubectl is not installed: kustomize cannot render k8s/")

    def test_renders_every_object(self):
        run = subprocess.run(["kubectl", "kustomize", src("k8s")], capture_output=True, text=True, timeout=120)
        if not self.expect(run.returncode == 0, f"kubectl kustomize k8s/ failed: {run.stderr}"):
            self.done()
            return
        rendered = {(d.get("kind"), d["metadata"]["name"]) for d in yaml.safe_load_all(run.stdout) if d}
        files = {(o.get("kind"), o["metadata"]["name"]) for o in k8s_objects()}
        self.expect(rendered == files, f"kubectl kustomize k8s/: renders {sorted(rendered - files)} beyond the files "
                                       f"and misses {sorted(files - rendered)}")
        self.done()


def main():
    global SOURCE_DIR, BIN_DIR
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--bin-dir", required=True)
    args, rest = parser.parse_known_args()
    SOURCE_DIR = os.path.abspath(args.source_dir)
    BIN_DIR = os.path.abspath(args.bin_dir)
    unittest.main(argv=[sys.argv[0], "-v"] + rest)


if __name__ == "__main__":
    main()
