#!/usr/bin/env python3
"""The client matrix: openapi.yaml as integrators in other languages use it.

For each generator (TypeScript: openapi-typescript + openapi-fetch; Python:
openapi-python-client; Go: openapi-generator's `go`), at its default options:

1. generate a client from openapi.yaml (a warning about the spec fails);
2. compile or type-check it with the scenario (tsc --strict, mypy --strict,
   go vet + go build);
3. run the scenario against a real server started like the demo: reads,
   pages, writes with ETags, errors, and a read run written back unchanged;
4. run its reads against a later, compatible server (later_server.py: new
   fields at the top and inside nested objects, a new status and file
   source), which must not break it;
5. the gate's experiments: for each kind of change the compatibility gate
   classifies, the gate's verdict on a spec with that change beside what
   each client does against a server that makes it. A change the gate calls
   compatible that breaks a client fails the matrix.

Tools install, pinned, into a cache outside the clone
($TASK_AGENT_CI_TOOLS/matrix, default ~/.cache/task-agent-ci/matrix).

    python3 client-matrix/matrix.py            # everything
    python3 client-matrix/matrix.py --only go  # one client
"""

import argparse
import copy
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SPEC = ROOT / "openapi.yaml"
TOOLS = Path(os.environ.get("TASK_AGENT_CI_TOOLS", Path.home() / ".cache" / "task-agent-ci")) / "matrix"
VENV = TOOLS / "venv"
NODE = TOOLS / "node"
OUT = ROOT / "target" / "client-matrix"
SERVER = ROOT / "target" / "debug" / "task-agent-server"

# Output of the generators that is not about the spec: progress and thanks.
NOT_ABOUT_THE_SPEC = re.compile(
    r"\[main\] INFO|^#|^\s*$|Generating |openapi-typescript|→|"
    r"Thanks for using OpenAPI Generator|Please consider donating|opencollective|"
    r"^\s*https?://"
)
# How each generator flags a problem with the spec.
SPEC_WARNING = re.compile(r"WARN|ERROR|Warning|warning|⚠|Skipping|Unable|Could not", re.IGNORECASE)


def log(message):
    print(message, flush=True)


def run(argv, cwd=None, env=None, timeout=600):
    """Runs a command; returns (exit status, output). A command still running
    after `timeout` seconds is stopped with every process it started (the
    generator's Java under its launcher), and fails."""
    process = subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        return 124, f"{output}\nstopped after {timeout} s: {' '.join(map(str, argv))}"
    return process.returncode, output


def must(argv, **kwargs):
    status, output = run(argv, **kwargs)
    if status != 0:
        sys.exit(f"failed ({status}): {' '.join(map(str, argv))}\n{output}")
    return output


def stamp_changed(directory, *inputs):
    """Whether `inputs` (files) changed since the stamp in `directory`; records them."""
    digest = hashlib.sha256(b"".join(Path(p).read_bytes() for p in inputs)).hexdigest()
    stamp = Path(directory) / ".stamp"
    if stamp.exists() and stamp.read_text() == digest:
        return False
    return lambda: stamp.write_text(digest)


def install():
    """The generators, checkers and runtimes, pinned, in the tool cache."""
    started = time.monotonic()
    requirements = HERE / "python" / "requirements.txt"
    VENV.mkdir(parents=True, exist_ok=True)
    record = stamp_changed(VENV, requirements)
    if record:
        must([sys.executable, "-m", "venv", "--clear", str(VENV)])
        must([VENV / "bin" / "pip", "install", "--quiet", "--disable-pip-version-check", "-r", requirements])
        record()
    NODE.mkdir(parents=True, exist_ok=True)
    lock = HERE / "typescript" / "package-lock.json"
    record = stamp_changed(NODE, HERE / "typescript" / "package.json", lock)
    if record:
        for name in ("package.json", "package-lock.json"):
            shutil.copy(HERE / "typescript" / name, NODE / name)
        must(["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=NODE)
        record()
    if shutil.which("go") is None:
        must(["apt-get", "update", "-qq"])
        must(["apt-get", "install", "-y", "-qq", "golang-go"], env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    if shutil.which("java") is None:
        sys.exit("openapi-generator needs Java (17 is on these machines)")
    return time.monotonic() - started


def tool_env():
    env = dict(os.environ)
    env["PATH"] = f"{VENV / 'bin'}:{NODE / 'node_modules' / '.bin'}:{env['PATH']}"
    # Go builds offline: the generated client needs only the standard library.
    env.update({"GOFLAGS": "-mod=mod", "GOPROXY": "off", "GOTOOLCHAIN": "local", "GOCACHE": str(TOOLS / "go-cache")})
    return env


class Client:
    """One generator, and the scenario written against what it generates,
    built in a directory of its own."""

    def __init__(self, name):
        self.name = name
        self.directory = OUT / name

    def fresh(self):
        shutil.rmtree(self.directory, ignore_errors=True)
        self.directory.mkdir(parents=True)

    def env(self):
        """What the scenario needs in its environment besides the server's."""
        return {}


class TypeScript(Client):
    def __init__(self):
        super().__init__("typescript")

    def generate(self, spec):
        self.fresh()
        for name in ("scenario.ts", "tsconfig.json", "package.json"):
            shutil.copy(HERE / "typescript" / name, self.directory / name)
        (self.directory / "node_modules").symlink_to(NODE / "node_modules")
        return run(["openapi-typescript", str(spec), "-o", "schema.d.ts"], cwd=self.directory, env=tool_env())

    def check(self):
        return run(["tsc", "-p", "."], cwd=self.directory, env=tool_env())

    def command(self):
        return ["node", str(self.directory / "dist" / "scenario.js")]


class Python(Client):
    def __init__(self):
        super().__init__("python")

    def generate(self, spec):
        self.fresh()
        return run(
            ["openapi-python-client", "generate", "--path", str(spec), "--output-path", "generated", "--overwrite"],
            cwd=self.directory,
            env=tool_env(),
        )

    def check(self):
        env = {**tool_env(), "MYPYPATH": str(self.directory / "generated")}
        return run(
            ["mypy", "--strict", "--cache-dir", str(self.directory / ".mypy_cache"),
             str(self.directory / "generated" / "task_agent_runs_api_client"), str(HERE / "python" / "scenario.py")],
            env=env,
        )

    def command(self):
        return [str(VENV / "bin" / "python"), str(HERE / "python" / "scenario.py")]

    def env(self):
        return {"PYTHONPATH": str(self.directory / "generated")}


class Go(Client):
    def __init__(self):
        super().__init__("go")

    def generate(self, spec):
        self.fresh()
        scenario = self.directory / "scenario"
        scenario.mkdir()
        for name in ("main.go", "go.mod"):
            shutil.copy(HERE / "go" / name, scenario / name)
        return run(
            ["openapi-generator-cli", "generate", "-g", "go", "-i", str(spec), "-o", str(self.directory / "generated")],
            env=tool_env(),
        )

    def check(self):
        scenario = self.directory / "scenario"
        status, output = run(["go", "vet", "."], cwd=scenario, env=tool_env())
        if status != 0:
            return status, output
        return run(["go", "build", "-o", "scenario", "."], cwd=scenario, env=tool_env())

    def command(self):
        return [str(self.directory / "scenario" / "scenario")]


CLIENTS = {client.name: client for client in (TypeScript(), Python(), Go())}


def spec_warnings(output):
    """The lines of a generator's output that complain about the spec."""
    return [line for line in output.splitlines() if SPEC_WARNING.search(line) and not NOT_ABOUT_THE_SPEC.search(line)]


class Process:
    """A background process, its output read on a thread (so that it never
    blocks on a full pipe), started once a line matches `ready`."""

    def __init__(self, argv, ready, env=None):
        self.process = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True
        )
        self.lines = []
        self.ready = False
        self.settled = threading.Event()
        threading.Thread(target=self.read, args=(ready,), daemon=True).start()
        self.settled.wait(60)
        if not self.ready:
            self.stop()
            sys.exit(f"{argv[0]} did not start in 60 s:\n{self.text()}")

    def read(self, ready):
        for line in self.process.stdout:
            self.lines.append(line)
            if not self.ready and re.search(ready, self.text()):
                self.ready = True
                self.settled.set()
        self.settled.set()  # it ended

    def text(self):
        return "".join(self.lines)

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


@dataclass
class Demo:
    """A server started like `task-agent-server demo`, with tokens and ids."""

    url: str
    environment: dict
    process: Process


def start_demo(data_dir):
    must(["cargo", "build", "--quiet", "-p", "task-agent-server"], cwd=ROOT)
    ready = r"Press Ctrl-C to stop"
    process = Process([str(SERVER), "demo", "--bind", "127.0.0.1:0", "--data-dir", str(data_dir)], ready)
    text = process.text()
    url = re.search(r"server:\s+(\S+)", text).group(1)
    reader = re.search(r"export TOKEN=(\S+)", text).group(1)
    ids = re.search(r"/org/([0-9a-f-]{36})/project/([0-9a-f-]{36})/task-agent/([0-9a-f-]{36})/run/", text)
    writer = must([str(SERVER), "token", "--data-dir", str(data_dir), "--sub", "demo-writer",
                   "--scope", "task_agent_runs:write"]).strip()
    environment = {
        "TASK_AGENT_READER_TOKEN": reader,
        "TASK_AGENT_WRITER_TOKEN": writer,
        "TASK_AGENT_ORG": ids.group(1),
        "TASK_AGENT_PROJECT": ids.group(2),
        "TASK_AGENT_AGENT": ids.group(3),
    }
    return Demo(url, environment, process)


def later_server(upstream, change):
    """The proxy that answers as a later server would (later_server.py)."""
    process = Process(
        [sys.executable, str(HERE / "later_server.py"), "--upstream", upstream, "--change", change], r"listening on \S+"
    )
    return process, re.search(r"listening on (\S+)", process.text()).group(1)


def scenario(client, demo, url, mode, expect_later=False):
    """Runs a client's scenario; returns (passed, its output)."""
    env = {**os.environ, **demo.environment, "TASK_AGENT_URL": url, "TASK_AGENT_MODE": mode}
    if expect_later:
        env["TASK_AGENT_EXPECT_LATER"] = "1"
    env.update(client.env())
    status, output = run(client.command(), env=env, timeout=300)
    return status == 0, output


# The gate's experiments: a change to the spec, and the proxy's change that
# makes a server speak it (`none`: nothing a client generated before the
# change can notice, as it never sends what was added).
def _schemas(spec):
    return spec["components"]["schemas"]


def _list_parameters(spec):
    return spec["paths"]["/api/v1/org/{org_id}/project/{project_id}/task-agent/{task_agent_id}/run"]["get"]["parameters"]


def add_top_field(spec):
    run = _schemas(spec)["TaskAgentRun"]
    run["properties"]["later_field"] = {"description": "Added later.", "type": "object", "additionalProperties": True}
    run["required"].append("later_field")


def add_nested_field(spec):
    for name in ("TaskToolInvocation", "McpToolInvocation", "IntegrationToolInvocation", "SkillActivation",
                 "PhaseTiming", "ContextUsage", "ModelUsage", "RunFile"):
        schema = _schemas(spec)[name]
        schema["properties"]["later_field"] = {"description": "Added later.", "type": "string"}
        schema["required"].append("later_field")


def add_status(spec):
    _schemas(spec)["RunStatus"]["enum"].append("paused")


def add_file_source(spec):
    _schemas(spec)["RunFileSource"]["enum"].append("emailed")


def add_query_parameter(spec):
    _list_parameters(spec).append(
        {"in": "query", "name": "later_filter", "description": "Added later.", "schema": {"type": "string"}}
    )


def add_request_field(spec):
    _schemas(spec)["TaskAgentRunWrite"]["properties"]["later_field"] = {"description": "Added later.", "type": "string"}


def widen_type(spec):
    _schemas(spec)["TaskAgentRun"]["properties"]["duration_ms"]["type"] = "number"
    _schemas(spec)["TaskAgentRun"]["properties"]["duration_ms"]["format"] = "double"


def add_nullable(spec):
    session = _schemas(spec)["TaskAgentRun"]["properties"]["session_id"]
    session["nullable"] = True


def remove_field(spec):
    run = _schemas(spec)["TaskAgentRun"]
    del run["properties"]["invocation_id"]
    run["required"].remove("invocation_id")


EXPERIMENTS = [
    # (kind, change to the spec, change the later server makes)
    ("response field added (top level)", add_top_field, "field-added-top"),
    ("response field added (nested)", add_nested_field, "field-added-nested"),
    ("enum value added (status)", add_status, "status-value-added"),
    ("enum value added (file source)", add_file_source, "file-source-value-added"),
    ("optional query parameter added", add_query_parameter, "none"),
    ("optional request field added", add_request_field, "none"),
    ("response type widened (integer to number)", widen_type, "type-widened"),
    ("response field made nullable", add_nullable, "nullable-added"),
    ("response field removed", remove_field, "field-removed"),
]


def gate_verdict(spec, variant):
    """The gate's worst impact for the change from `spec` to `variant`."""
    output = must(["cargo", "xtask", "compare", str(spec), str(variant)], cwd=ROOT)
    return re.search(r"worst impact: (\w+)", output).group(1)


def load_spec(spec):
    from ruamel.yaml import YAML  # in the tool cache's venv

    return json.loads(json.dumps(YAML(typ="safe").load(spec.read_text())))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(CLIENTS), action="append", help="run these clients only")
    parser.add_argument("--no-experiments", action="store_true", help="skip the gate's experiments")
    parser.add_argument("--spec", type=Path, default=SPEC, help="generate from this contract instead of openapi.yaml")
    args = parser.parse_args()
    if Path(sys.prefix).resolve() != VENV.resolve():
        log(f"tools ready in {install():.1f} s ({TOOLS})")
        # The rest reads YAML, with the cache's Python.
        os.execv(VENV / "bin" / "python", [str(VENV / "bin" / "python"), __file__, *sys.argv[1:]])
    clients = [CLIENTS[name] for name in (args.only or CLIENTS)]
    OUT.mkdir(parents=True, exist_ok=True)
    failures = []
    table = {}

    def step(client, name, action):
        started = time.monotonic()
        passed, output = action()
        seconds = time.monotonic() - started
        table.setdefault(client.name, {})[name] = ("pass" if passed else "FAIL", seconds)
        counts = re.findall(r"^\d+ passed, \d+ failed$", output, re.MULTILINE)
        summary = f"  ({counts[-1]})" if counts else ""
        log(f"{'ok  ' if passed else 'FAIL'} {client.name:<10} {name:<12} {seconds:6.1f} s{summary}")
        if not passed:
            failures.append(f"{client.name} {name}")
            log("\n".join("    " + line for line in output.strip().splitlines()))
        return passed

    with tempfile.TemporaryDirectory(prefix="client-matrix-") as scratch:
        demo = start_demo(Path(scratch) / "demo")
        try:
            ready = []
            for client in clients:
                def generate(client=client):
                    status, output = client.generate(args.spec.resolve())
                    warnings = spec_warnings(output)
                    return status == 0 and not warnings, "\n".join(warnings) or output

                def check(client=client):
                    status, output = client.check()
                    return status == 0, output

                if step(client, "generated", generate) and step(client, "compiled", check):
                    ready.append(client)
            for client in ready:
                step(client, "scenario", lambda client=client: scenario(client, demo, demo.url, "full"))
            proxy, url = later_server(demo.url, "later")
            try:
                for client in ready:
                    step(client, "forward", lambda client=client: scenario(client, demo, url, "read", expect_later=True))
            finally:
                proxy.stop()
            if not args.no_experiments:
                failures += experiments(args.spec.resolve(), ready, demo, Path(scratch))
        finally:
            demo.process.stop()

    log("\nclient matrix (generator × step):")
    steps = ["generated", "compiled", "scenario", "forward"]
    log(f"  {'client':<12}" + "".join(f"{name:>16}" for name in steps))
    for name, results in table.items():
        cells = [f"{results[s][0]} {results[s][1]:5.1f} s" if s in results else "-" for s in steps]
        log(f"  {name:<12}" + "".join(f"{cell:>16}" for cell in cells))
    if failures:
        log(f"\n{len(failures)} failed: " + "; ".join(failures))
        return 1
    log("\nevery client passed")
    return 0


def experiments(spec, clients, demo, scratch):
    """The gate's experiments on `spec`; returns what failed."""
    failures = []
    base = load_spec(spec)
    log("\nthe gate's experiments (a client generated from openapi.yaml, a server with the change):")
    broken_somewhere = False
    for kind, change_spec, change_server in EXPERIMENTS:
        variant = copy.deepcopy(base)
        change_spec(variant)
        path = scratch / "variant.json"
        path.write_text(json.dumps(variant))
        verdict = gate_verdict(spec, path)
        outcomes = {}
        why = []
        proxy, url = later_server(demo.url, change_server)
        try:
            for client in clients:
                passed, output = scenario(client, demo, url, "read")
                outcomes[client.name] = passed
                if not passed:
                    first = next((line for line in output.splitlines() if line.startswith("FAIL")), output.strip())
                    why.append(f"      {client.name}: {first[:160]}")
                if not passed and verdict in ("compatible", "documentation", "none"):
                    failures.append(f"gate calls '{kind}' {verdict}, but the {client.name} client breaks")
        finally:
            proxy.stop()
        broken_somewhere |= not all(outcomes.values())
        cells = "  ".join(f"{name} {'pass' if ok else 'BREAKS'}" for name, ok in outcomes.items())
        log(f"  {kind:<44} gate: {verdict:<13} {cells}")
        for line in why:
            log(line)
    if not broken_somewhere and len(clients) == len(CLIENTS):
        failures.append("no experiment broke any client: the experiments cannot tell breaking from compatible")
    return failures


if __name__ == "__main__":
    sys.exit(main())
