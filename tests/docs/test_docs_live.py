"""The docs examples that need the real thing: services, the CLIs, SSH — run for real, as the pages say.

One world for the whole module: the quick start's machine (``docs/index.md``: its
``~/.seamless/clusters.yaml`` in a private HOME) and its project (``seamless.yaml`` +
``seamless.profile.yaml``), brought up once with the quick start's own ``$ seamless-init`` — real
hashserver, seamless-database and seamless-jobserver from PyPI, as in tests/e2e. Every example marked
``<!-- example: quickstart -->`` runs in that project, against those services; the others (``ID``) run in
the project their page describes, next to it, in the same HOME. At the end every service is stopped by
the PID in its state file (tests/e2e/local_cluster.stop_services) and none may survive.

Python blocks are written to a file and run with this interpreter (``/path/to/project`` in a block
means the project directory); console blocks run line by line with bash (``$ `` lines), and the lines
the page shows as their output must match what the command printed (numbers, times and ports may
differ; see ``like``). ``test_every_code_block_is_run_or_skipped`` fails for a block no test handles.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
for extra in (HERE, REPO / "tests" / "e2e", REPO / "tests"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

import blocks  # noqa: E402
from local_cluster import isolated_env, read_server_states, stop_services  # noqa: E402

BIN = Path(sys.executable).parent
HANDLED: dict[str, str] = {}  # mark -> the test that runs blocks with it


def handles(*marks: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    def register(test: Callable[..., None]) -> Callable[..., None]:
        for mark in marks:
            HANDLED[mark] = test.__name__
        return test
    return register


def marked(mark: str, lang: str | None = None) -> list[blocks.Block]:
    return [b for b in blocks.all_blocks() if b.mark == mark and (lang is None or b.lang == lang)]


def block_of(page: str, start: str, lang: str | None = None) -> blocks.Block:
    """The block of *page* whose body starts with *start*."""
    return next(b for b in blocks.page_blocks(page) if b.body.startswith(start) and (lang is None or b.lang == lang))


def next_block(block: blocks.Block, lang: str) -> blocks.Block:
    """The first *lang* block after *block* on its page (an example's shown output)."""
    return next(b for b in blocks.page_blocks(block.page) if b.index > block.index and b.lang == lang)


# ----------------------------------------------------------------------------- running


@dataclass
class World:
    root: Path
    home: Path
    env: dict[str, str]
    quickstart: Path
    homes: list[Path] = field(default_factory=list)  # every HOME whose services are stopped at the end

    def run(self, command: str | list[str], cwd: Path, env: dict[str, str] | None = None,
            timeout: float = 180.0) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(command, shell=isinstance(command, str), cwd=cwd, env=env or self.env,
                                  capture_output=True, text=True, timeout=timeout, executable="/bin/bash"
                                  if isinstance(command, str) else None)
        except subprocess.TimeoutExpired as exc:
            raise AssertionError(f"{command} did not finish in {timeout} s: {exc.stdout!r} {exc.stderr!r}") from None

    def python(self, block: blocks.Block | str, cwd: Path, name: str = "example.py",
               env: dict[str, str] | None = None, expect: int = 0) -> subprocess.CompletedProcess[str]:
        source = block.body if isinstance(block, blocks.Block) else block
        source = source.replace("/path/to/project", str(cwd))
        if "await " in source and isinstance(block, blocks.Block):
            # Top-level await, as in Jupyter: run the block as the body of a coroutine.
            source = "import asyncio\n\nasync def _main():\n" + "".join(
                f"    {line}\n" for line in source.splitlines()) + "\nasyncio.run(_main())\n"
        (cwd / name).write_text(source + "\n", encoding="utf-8")
        result = self.run([sys.executable, name], cwd, env)
        assert result.returncode == expect, f"{block}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.stderr or expect != 0, f"{block}:\n{result.stderr}"
        return result

    def console(self, block: blocks.Block, cwd: Path, env: dict[str, str] | None = None,
                expect: int = 0) -> list[tuple[str, subprocess.CompletedProcess[str]]]:
        """Run each '$ ' line of *block* in one bash session per line (cwd follows '$ cd'); check shown output."""
        done = []
        exports: list[str] = []
        for command, shown in commands(block):
            if command.startswith("cd "):
                cwd = cwd / command.split(None, 1)[1]
                cwd.mkdir(exist_ok=True)
                continue
            result = self.run("\n".join([*exports, command]), cwd, env)
            if command.startswith("export "):
                exports.append(command)
            assert result.returncode == expect, f"{block}: {command}: exit {result.returncode}\n{result.stdout}\n" \
                                                f"{result.stderr}"
            assert "Traceback" not in result.stderr, f"{block}: {command}\n{result.stderr}"
            if shown:
                like(shown, result.stdout + result.stderr, f"{block}: {command}")
            done.append((command, result))
        return done


def commands(block: blocks.Block) -> list[tuple[str, str]]:
    """('$ command' without its '  # comment', the output lines shown under it) of a console block."""
    found: list[tuple[str, list[str]]] = []
    for line in block.body.splitlines():
        if line.startswith("$ "):
            found.append((re.split(r"\s{2,}#", line[2:])[0].strip(), []))
        elif found and not line.startswith(" " * 20):  # a comment continued under its command
            found[-1][1].append(line)
    return [(c, "\n".join(out)) for c, out in found]


def like(shown: str, printed: str, what: str) -> None:
    """Each non-empty line *shown* is printed, in order; numbers (ports, seconds, sizes) may differ."""
    lines = printed.splitlines()
    position = 0
    for expected in (s for s in shown.splitlines() if s.strip()):
        pattern = re.sub(r"(?:\\ )+", r"\\s+", re.escape(expected.strip()))
        pattern = re.sub(r"\d+", r"\\d+", pattern)
        for i in range(position, len(lines)):
            if re.fullmatch(pattern, lines[i].strip()):
                position = i + 1
                break
        else:
            raise AssertionError(f"{what}: the page shows\n  {expected}\nwhich is not printed:\n{printed}")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("docs-world")
    home = root / "home"
    machine = block_of("index.md", "# ~/.seamless/clusters.yaml", "yaml")
    (home / ".seamless").mkdir(parents=True)
    (home / ".seamless" / "clusters.yaml").write_text(machine.body + "\n")
    quickstart = root / "quickstart"
    quickstart.mkdir()
    for name in ("seamless.yaml", "seamless.profile.yaml"):
        block = block_of("index.md", f"# {name}", "yaml")
        (quickstart / name).write_text(block.body + "\n")
    made = World(root, home, isolated_env(home), quickstart, [home])
    yield made
    survivors: list[int] = []
    for h in made.homes:
        survivors += stop_services(h).survivors
    assert not survivors, f"services still alive after SIGKILL: {survivors}"


def project(world: World, name: str, files: dict[str, str]) -> Path:
    path = world.root / name
    path.mkdir(exist_ok=True)
    for file, text in files.items():
        (path / file).write_text(text.rstrip("\n") + "\n")
    return path


# ----------------------------------------------------------------------------- the quick start, first


@handles("quickstart")
def test_quickstart_seamless_init(world: World) -> None:
    """docs/index.md step 3: the first seamless-init starts the three services (the page's output)."""
    [block] = [b for b in marked("quickstart", "console") if b.page == "index.md"]
    world.console(block, world.quickstart)
    states = read_server_states(world.home)
    assert sorted(s["meta"]["service"] for s in states.values()) == ["database", "hashserver", "jobserver"]
    assert (world.home / "seamless-data" / "buffers" / "quickstart").is_dir()  # where the page says


@handles("pipeline")
def test_quickstart_pipeline(world: World) -> None:
    """docs/index.md step 4: pipeline.py prints 5, on the jobserver, stored in the database."""
    script, shell = marked("pipeline")
    world.python(script, world.quickstart, "pipeline.py")
    world.console(shell, world.quickstart)  # '$ python pipeline.py' prints '5'
    assert (world.home / "seamless-data" / "db" / "quickstart" / "seamless.db").stat().st_size > 0


@handles("services")
def test_service_commands(world: World) -> None:
    """docs/services.md: ps, logs, stop and a relaunch, in the quick-start project (as 'my-project')."""
    [block] = marked("services")
    shutil.copytree(world.quickstart, world.root / "my-project", dirs_exist_ok=True)
    world.console(block, world.root)
    states = read_server_states(world.home)
    running = [s["meta"]["service"] for s in states.values()
               if s.get("status") == "running" and not s["meta"].get("stage")]
    assert sorted(running) == ["database", "hashserver", "jobserver"], states


@pytest.mark.parametrize("block", [b for b in marked("quickstart") if b.page != "index.md"], ids=str)
def test_quickstart_examples(world: World, block: blocks.Block) -> None:
    """Examples that run in the quick-start project, against its services."""
    if block.lang == "python":
        world.python(block, world.quickstart)
    else:
        world.console(block, world.quickstart)


@handles("ainit")
def test_ainit(world: World) -> None:
    [block] = marked("ainit")
    world.python(block, world.quickstart)


@handles("init-or-error")
def test_init_or_configuration_error(world: World) -> None:
    """docs/errors.md: init() works in the quick start; in a broken project it prints the error, exit 3."""
    [block] = marked("init-or-error")
    assert world.python(block, world.quickstart).stdout == ""
    broken = project(world, "broken", {"seamless.yaml": "- project: quickstart\n- clustr: local\n"})
    result = world.python(block, broken, expect=3)
    assert result.stdout.startswith("cannot initialise: ") and "seamless.yaml:2:3: unknown command 'clustr'" \
        in result.stdout, result.stdout


@handles("nparallel")
def test_nparallel(world: World) -> None:
    """docs/python-api.md: '- nparallel: 8' in the files, then set_nparallel(2): prints 8, then 2."""
    [block] = marked("nparallel")
    files = {n: (world.quickstart / n).read_text() for n in ("seamless.yaml", "seamless.profile.yaml")}
    files["seamless.profile.yaml"] += "- nparallel: 8\n"
    result = world.python(block, project(world, "nparallel", files))
    assert result.stdout.split() == ["8", "2"]


@handles("current")
def test_get_current(world: World) -> None:
    """docs/python-api.md: what the comments say get_current() and get_execution() print."""
    [block] = marked("current")
    shown = re.findall(r"# (.+?)(?::|$)", block.body, re.M)
    result = world.python(block, world.quickstart)
    assert result.stdout.splitlines() == [s.strip().strip("'") if s.startswith("'") else s.strip() for s in shown]


@handles("collect")
def test_collect_and_worker(world: World) -> None:
    """docs/python-api.md: collect.py prints the clients (the JSON shown), worker.py gets 42 with them."""
    collect, worker, shell = marked("collect")
    world.python(collect, world.quickstart, "collect.py")
    (world.quickstart / "worker.py").write_text(worker.body + "\n")
    done = world.console(shell, world.quickstart)
    clients = json.loads(world.run([sys.executable, "collect.py"], world.quickstart).stdout)
    shown = json.loads(next_block(collect, "json").body)
    assert sorted(clients) == sorted(shown)
    for kind in shown:
        assert [sorted(c) for c in clients[kind]] == [sorted(c) for c in shown[kind]], kind
    assert clients["buffer"][0]["remote_directory"] == "~/seamless-data/buffers/quickstart"
    assert done[-1][1].stdout.strip().splitlines()[-1] == "42"


@handles("seamless-cache")
def test_seamless_cache(world: World) -> None:
    """docs/python-api.md: SEAMLESS_CACHE=~/seamless-cache python script.py stores in that directory."""
    [block] = marked("seamless-cache")
    where = world.root / "cache-script"
    where.mkdir()
    shutil.copy(world.quickstart / "pipeline.py", where / "script.py")  # any script that calls init()
    world.console(block, where)
    cache = world.home / "seamless-cache"
    assert cache.is_dir() and any(cache.rglob("seamless.db")), sorted(cache.rglob("*"))


@handles("init-json")
def test_seamless_init_json(world: World) -> None:
    """docs/seamless-init.md: '--stage prod --json' prints the object shown (every key, the services)."""
    [block] = marked("init-json")
    [(_, result)] = world.console(block, world.quickstart)
    report = json.loads(result.stdout)
    shown = json.loads(next_block(block, "json").body)
    assert sorted(report) == sorted(shown) and report["ok"] is True and report["stage"] == "prod"
    assert [sorted(s) for s in report["services"]] == [sorted(s) for s in shown["services"]]
    assert [(s["service"], s["status"]) for s in report["services"]] == \
        [(s["service"], s["status"]) for s in shown["services"]]


def _one_cluster_project(world: World, name: str, database: dict[str, object]) -> Path:
    cluster = {"local_cluster": "local", "local": {"type": "local", "workers": 1, "frontends": [{
        "hashserver": {"bufferdir": str(world.root / name / "b"), "network_interface": "127.0.0.1",
                       "port_start": 55500, "port_end": 55599},
        "database": {"database_dir": str(world.root / name / "d"), "network_interface": "127.0.0.1",
                     "port_start": 55600, "port_end": 55699, **database},
        "jobserver": {"network_interface": "127.0.0.1", "port_start": 55700, "port_end": 55799}}]}}
    return project(world, name, {"seamless.yaml": f"- project: {name}",
                                 "seamless.profile.yaml": f"- clusters: {json.dumps(cluster)}\n- execution: remote\n"
                                                          "- cluster: local"})


@handles("init-conda-failure")
def test_seamless_init_failure_report(world: World) -> None:
    """docs/seamless-init.md: a 'conda:' database on a machine without conda: exit 4, the entries shown."""
    if shutil.which("conda", path=world.env["PATH"]):
        pytest.skip("conda is installed here: the failure shown needs a machine without it")
    shown = json.loads("[" + block_of("seamless-init.md", '    {\n      "service": "database"', "json").body + "]")
    where = _one_cluster_project(world, "condaproj", {"conda": "seamless-database"})
    result = world.run(["seamless-init", "--json"], where)
    assert result.returncode == 4, result.stdout + result.stderr
    report = json.loads(result.stdout)
    got = [s for s in report["services"] if s["service"] in ("database", "jobserver")]
    for entry, expected in zip(got, shown, strict=True):
        assert sorted(entry) == sorted(expected)
        assert (entry["status"], entry["reason"]) == (expected["status"], expected["reason"])


@handles("init-config-error")
def test_seamless_init_configuration_error(world: World) -> None:
    """docs/seamless-init.md: a configuration error's JSON shape and message (file:line:column, then the fix)."""
    shown = json.loads(block_of("seamless-init.md", '{\n  "ok": false', "json").body)
    lines = ["- clusters:", "    hpc:", "      type: slurm", "      frontends:", "        - hostname: login",
             "      queues:", "        q:", "          cores: 1", "          walltime: 1:00:00", "- cluster: hpc"]
    where = project(world, "proj", {"seamless.yaml": "- project: proj", "seamless.profile.yaml": "\n".join(lines)})
    result = world.run(["seamless-init", "--json"], where)
    assert result.returncode == 3
    report = json.loads(result.stdout)
    assert sorted(report) == sorted(shown) and report["error"] == shown["error"]
    location, message = report["message"].split(": ", 1)
    assert location == f"{where}/seamless.profile.yaml:9:11"
    assert message == shown["message"].split(": ", 1)[1]


@handles("prologue-refused")
def test_prologue_refused_in_a_project_file(world: World) -> None:
    """docs/security.md: the page's queue, inline in a project file, is refused with the message shown."""
    [block] = marked("prologue-refused")
    queue = block_of("security.md", "# ~/.seamless/clusters.yaml", "yaml").body.splitlines()[1:]
    text = "- project: proj\n- clusters:\n" + "".join(f"    {line}\n" for line in queue)
    where = project(world, "prologue", {"seamless.yaml": text})
    [(command, shown)] = commands(block)
    result = world.run(command, where)
    assert result.returncode == 3
    number, line = next((i, t) for i, t in enumerate(text.splitlines(), 1) if "job_script_prologue" in t)
    here = f"{where}/seamless.yaml:{number}:{line.index('job_script_prologue') + 1}"
    printed = " ".join(result.stderr.split())
    expected = " ".join(shown.split()).replace("/home/me/proj/seamless.yaml:14:7", here)
    assert printed == expected, printed


@handles("spawn")
def test_spawn(world: World) -> None:
    """docs/execution.md: the spawn profile shown; the worker's PID differs from the main one."""
    [block] = marked("spawn")
    profile = block_of("execution.md", "- cluster: local        # storage", "yaml")
    where = project(world, "spawn", {"seamless.yaml": (world.quickstart / "seamless.yaml").read_text(),
                                     "seamless.profile.yaml": profile.body})
    out = world.python(block, where).stdout.split()
    assert out[0] == "main" and out[2] == "worker" and out[1] != out[3], out


@handles("schema")
def test_schema_files_for_the_editor(world: World) -> None:
    """docs/editor.md: the two console lines write the shipped schemas; the settings and modeline use them."""
    from seamless_config.schemas import load_schema

    [block] = marked("schema")
    world.console(block, world.root)
    for which in ("clusters", "project"):
        written = json.loads((world.home / ".seamless" / f"{which}.schema.json").read_text())
        assert written == load_schema(which)
    settings = json.loads(block_of("editor.md", "{", "json").body)["yaml.schemas"]
    assert set(settings) == {"/home/me/.seamless/project.schema.json", "/home/me/.seamless/clusters.schema.json"}
    import jsonschema

    modeline = block_of("editor.md", "# yaml-language-server: $schema=", "yaml")
    assert "/home/me/.seamless/project.schema.json" in modeline.body
    from seamless_config.core.yaml_io import parse_yaml

    jsonschema.validate(parse_yaml(modeline.body + "\n", Path("seamless.yaml")).data, load_schema("project"))


@handles("pip")
def test_install_lines(world: World) -> None:
    """docs/index.md: not run (it would install from PyPI); the package and the [local] extra are these."""
    [block] = marked("pip")
    meta = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    cmds = [c for c, _ in commands(block)]
    assert cmds == [f"pip install {meta['name']}", f'pip install "{meta["name"]}[local]"']
    local = " ".join(meta["optional-dependencies"]["local"])
    for package in ("hashserver", "seamless-database", "seamless-jobserver", "seamless-transformer"):
        assert package in local, package


@handles("ssh-prefix")
def test_ssh_command_prefix(world: World) -> None:
    """docs/ssh.md: every SSH command starts with this PATH line — it is the one in the code, and it works."""
    [block] = marked("ssh-prefix")
    sources = "".join(p.read_text() for p in (REPO / "src" / "seamless_config").rglob("*.py"))
    assert block.body.strip() in sources
    result = world.run(block.body + ' echo "$PATH"', world.root, {"HOME": str(world.home), "PATH": "/usr/bin:/bin"})
    assert result.stdout.startswith(f"{world.home}/miniforge3/bin:{world.home}/miniconda3/bin:/usr/bin")


@handles("ssh-rhl")
def test_rhl_helpers_over_ssh(world: World) -> None:
    """docs/ssh.md: rhl-ps, rhl-logs, rhl-stop over SSH, on a frontend that seamless-init brought up.

    The frontend is the test sshd on 127.0.0.1 (tests/sshd.py) under the page's alias hpc-login, with its
    own HOME; the cluster 'hpc' (project demo) is defined inline, its hashserver and database reached by SSH.
    """
    from sshd import sshd_available, start_sshd, stop_sshd

    reason = sshd_available()
    if reason is not None:
        pytest.skip(reason)
    [block] = marked("ssh-rhl")
    server = start_sshd(world.root / "sshd")
    try:
        config = server.config_path.read_text().replace("Host rhl-test rhl-test-cm", "Host rhl-test rhl-test-cm hpc-login")
        server.config_path.write_text(config)
        remote_home = world.root / "frontend-home"
        remote_home.mkdir()
        server.set_remote_home(remote_home)
        world.homes.append(remote_home)
        frontend = {"hostname": "localhost", "ssh_hostname": "hpc-login",
                    "hashserver": {"bufferdir": str(remote_home / "b"), "network_interface": "127.0.0.1",
                                   "port_start": 55800, "port_end": 55899},
                    "database": {"database_dir": str(remote_home / "d"), "network_interface": "127.0.0.1",
                                 "port_start": 55900, "port_end": 55999}}
        cluster = {"hpc": {"type": "local", "tunnel": False, "frontends": [frontend]}}
        where = project(world, "demo", {"seamless.yaml": "- project: demo", "seamless.profile.yaml":
                                        f"- clusters: {json.dumps(cluster)}\n- cluster: hpc\n- execution: process"})
        env = dict(world.env, PATH=server.path_env(world.env["PATH"]), SEAMLESS_SSH_CONFIG=str(server.config_path))
        up = world.run(["seamless-init"], where, env)
        assert up.returncode == 0, up.stdout + up.stderr
        done = dict(world.console(block, where, env))
        assert "hashserver-hpc-rw-demo" in done["ssh hpc-login rhl-ps"].stdout
        assert "Uvicorn running" in done["ssh hpc-login rhl-logs hashserver-hpc-rw-demo --tail 50"].stdout + \
            done["ssh hpc-login rhl-logs hashserver-hpc-rw-demo --tail 50"].stderr
        state = read_server_states(remote_home)["hashserver-hpc-rw-demo"]
        assert state["status"] != "running" or not Path(f"/proc/{state['pid']}").exists(), state
    finally:
        server.set_remote_home(None)
        stop_sshd(server)


# ----------------------------------------------------------------------------- error messages shown


def shown_messages(page: str) -> list[str]:
    """The messages in the text blocks of *page*, without their 'file:line:column: ' (continuation lines kept)."""
    found: list[str] = []
    for block in blocks.page_blocks(page):
        if block.lang != "text":
            continue
        for line in block.body.splitlines():
            m = re.match(r"\S+\.yaml:\d+:\d+: (.*)", line)
            if m:
                found.append(m[1])
            elif found and line and not line.startswith(" ") and found[-1].endswith("Example:") or \
                    found and found[-1].startswith("expected a YAML list") and line.startswith("- "):
                found[-1] += "\n" + line
    return found


_HS = "      frontends:\n        - hashserver:\n"
# Files that produce each located message the pages show (the message must be among validate's problems).
MESSAGE_FILES: dict[str, dict[str, str]] = {
    "unknown command 'clustr'": {"seamless.yaml": "- project: p\n- clustr: local\n"},
    "unknown command 'executon'": {"seamless.yaml": "- project: p\n- stage prod:\n    - executon: remote\n"},
    "unknown command 'stageprod'": {"seamless.yaml": "- project: p\n- stageprod:\n    - record: true\n"},
    "expected a YAML list of commands": {"seamless.yaml": "project: p\n"},
    "unknown key 'prot_start'": {"clusters.yaml": "c:\n  type: local\n  frontends:\n    - hashserver:\n"
                                 "        bufferdir: /b\n        prot_start: 1\n"},
    "hashserver: set both": {"clusters.yaml": "c:\n  type: local\n  frontends:\n    - hashserver:\n"
                             "        bufferdir: /b\n        port_start: 1\n"},
    "queue 'gpu' uses TEMPLATE 'base'": {"clusters.yaml": "c:\n  type: slurm\n  frontends: [{hostname: h}]\n"
                                         "  queues:\n    gpu: {TEMPLATE: base, cores: 1}\n"},
    "queue 'base': set 'cores'": {"clusters.yaml": "c:\n  type: slurm\n  frontends: [{hostname: h}]\n"
                                  "  queues:\n    base: {walltime: '01:00:00'}\n"},
    "malformed YAML: expected <block end>": {"clusters.yaml": "c:\n  type: local\n  frontends:\n"
                                             "    - hostname: h\n   workers: 2\n"},
    "project 'my project' is not allowed": {"seamless.yaml": "- project: my project\n"},
    "bufferdir '/data/$USER' is not allowed": {"clusters.yaml": "c:\n  type: local\n  frontends:\n"
                                               "    - hashserver: {bufferdir: /data/$USER}\n"},
    "hostname '-oProxyCommand=x' is not allowed": {"clusters.yaml": "c:\n  type: slurm\n  frontends:\n"
                                                   "    - hostname: -oProxyCommand=x\n"},
    "'walltime: 1:00:00' is read by YAML 1.1": {"clusters.yaml": "c:\n  type: slurm\n  frontends: [{hostname: h}]\n"
                                                "  queues:\n    q: {cores: 1, walltime: 1:00:00}\n"},
}


@pytest.mark.parametrize("page", ["errors.md", "configuration.md"])
def test_located_error_messages_shown(page: str, tmp_path: Path) -> None:
    """Each 'file:line:column: message' the page shows is what validate reports for such a file."""
    from seamless_config.core.validate import validate, validate_file

    shown = shown_messages(page)
    assert shown
    for message in shown:
        key = next((k for k in MESSAGE_FILES if message.startswith(k)), None)
        assert key is not None, f"{page}: no file in MESSAGE_FILES produces {message!r}"
        case = tmp_path / str(abs(hash(key)))
        case.mkdir()
        for name, text in MESSAGE_FILES[key].items():
            (case / name).write_text(text)
        report = validate_file(case / "clusters.yaml", tmp_path) if (case / "clusters.yaml").exists() \
            else validate(case, tmp_path)
        got = [p.message for p in report.problems]
        assert message in got, f"{page}: shows {message!r}; validate says {got}"


# Settings that are each fine alone, wrong together: seamless-init stops with exit 3 before starting anything.
_BOTH = ("- project: p\n- clusters:\n    c:\n      type: local\n      frontends:\n        - hashserver: {bufferdir: /b}\n"
         "          jobserver: {network_interface: 127.0.0.1, port_start: 55000, port_end: 55010}\n"
         "          daskserver: {network_interface: 127.0.0.1, port_start: 55020, port_end: 55030}\n"
         "- cluster: c\n- execution: remote\n")
COMBINATIONS: dict[str, str] = {
    "execution is 'remote' but no cluster is selected": "- project: p\n- execution: remote\n",
    "Cluster 'local' has a jobserver but no 'workers'": (
        "- project: p\n- clusters:\n    local:\n      type: local\n      frontends:\n        - hashserver: {bufferdir: /b}\n"
        "          database: {database_dir: /d}\n"
        "          jobserver: {network_interface: 127.0.0.1, port_start: 55000, port_end: 55010}\n"
        "- cluster: local\n- execution: remote\n"),
    "No queue selected and cluster 'box' has no default queue": (
        "- project: p\n- clusters:\n    box:\n      type: local\n      frontends:\n        - hashserver: {bufferdir: /b}\n"
        "          database: {database_dir: /d}\n"
        "          daskserver: {network_interface: 127.0.0.1, port_start: 55020, port_end: 55030}\n"
        "      queues:\n        main: {cores: 1}\n- cluster: box\n- execution: remote\n"),
    "Cluster 'c' frontend 'localhost' has both a jobserver and a daskserver": _BOTH,
}


def test_combination_errors_shown(world: World) -> None:
    """errors.md / execution.md: the errors without a location, as seamless-init prints them (exit 3)."""
    shown = [line for page in ("errors.md", "execution.md") for b in blocks.page_blocks(page) if b.lang == "text"
             for line in b.body.splitlines() if any(line.startswith(k) for k in COMBINATIONS)]
    assert len(shown) == len(COMBINATIONS)
    for message in shown:
        key = next(k for k in COMBINATIONS if message.startswith(k))
        where = project(world, f"combination-{len(key)}", {"seamless.yaml": COMBINATIONS[key]})
        result = world.run(["seamless-init", "--json"], where)
        assert result.returncode == 3, result.stdout + result.stderr
        assert json.loads(result.stdout)["message"] == message


# ----------------------------------------------------------------------------- Dask (one project each)


@handles("daskserver", "forwarding")
def test_daskserver_on_this_machine(world: World) -> None:
    """docs/execution.md: the 'box' profile; 'False 42' (the upstream page's reproducer: 42, no hang)."""
    example, reproducer = marked("daskserver")
    profile = block_of("execution.md", "# seamless.profile.yaml\n- clusters:\n    local_cluster: box", "yaml")
    where = project(world, "box", {"seamless.yaml": "- project: boxproj", "seamless.profile.yaml": profile.body})
    # (seamless-dask's client also prints where the Dask dashboard is)
    assert world.python(example, where).stdout.splitlines()[-1].split() == ["False", "42"]
    assert world.python(example, where).stdout.splitlines()[-1].split() == ["True", "42"]  # new process: cached
    assert world.python(reproducer, where, "reproducer.py").stdout.splitlines()[-1] == "42"
    [forwarding] = marked("forwarding")
    client, worker = forwarding.body.split("# worker.py\n")
    (where / "worker.py").write_text(worker)
    world.python(client, where, "client.py")


@handles("pure-dask")
def test_pure_dask(world: World) -> None:
    """docs/execution.md: pure Dask prints 42 twice (plain Dask, then Seamless inside a worker)."""
    [block] = marked("pure-dask")
    profile = block_of("execution.md", "- clusters:\n    local_cluster: daskbox", "yaml")
    where = project(world, "daskbox", {"seamless.profile.yaml": profile.body})
    assert world.python(block, where).stdout.split() == ["42", "42"]


# ----------------------------------------------------------------------------- last: stop


@handles("services-python")
def test_services_from_python_stops_the_quickstart(world: World) -> None:
    """docs/services.md 'From Python': resolve, ps and stop (this stops the quick start's services)."""
    [block] = marked("services-python")
    out = world.python(block, world.quickstart).stdout.splitlines()
    assert out[0].startswith("hashserver-local-rw-quickstart--STAGE-prod localhost ")
    stopped = [line.split() for line in out[1:]]
    assert stopped and all(outcome in ("stopped", "missing") for _, outcome in stopped), out
    assert ["jobserver-local-rw-quickstart", "stopped"] in stopped or any(
        k.startswith("jobserver-local-rw-quickstart") for k, _ in stopped), out


# ----------------------------------------------------------------------------- every block is run or skipped


SKIP_LIMIT = 3


def test_every_code_block_is_run_or_skipped() -> None:
    """Each code block is run or checked by a test, or marked 'skip (reason)'; no fence without a language."""
    import test_docs

    generic_console = {str(e) for e in test_docs.console_blocks()}
    unhandled, skipped = [], []
    for block in blocks.all_blocks():
        assert block.lang, f"{block}: a fence without a language (use text for output)"
        if block.lang not in blocks.CODE:
            continue
        if block.skip_reason is not None:
            skipped.append(f"{block}: {block.skip_reason}")
        elif block.lang in ("yaml", "json"):
            continue  # test_docs: every YAML block validated (or 'broken'/'fragment'), every JSON block parsed
        elif block.mark == "run" or str(block) in generic_console:
            continue
        elif block.mark not in HANDLED:
            unhandled.append(f"{block} ({block.lang}, mark {block.mark!r})")
    assert not unhandled, "blocks no test runs (mark them with an example id or 'skip (reason)'):\n" + \
        "\n".join(unhandled)
    assert len(skipped) <= SKIP_LIMIT, skipped
    print("skipped:", *skipped, sep="\n  ")
