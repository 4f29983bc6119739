"""``seamless-config show``: each setting's reported origin (file and line) is where the files say it is."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import seamless_config
from seamless_config.cli.config import app
from seamless_config.state import STATE

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "staged-project"


def line_of(path: Path, text: str) -> int:
    """The 1-based line of the only line of *path* that contains *text*."""
    hits = [i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line]
    assert len(hits) == 1, (path, text, hits)
    return hits[0]


def show(workdir: Path, *args: str) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["show", "--json", "--workdir", str(workdir), *args])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "staged-project"
    shutil.copytree(EXAMPLE, root)
    return root


def test_three_levels_two_stage_blocks_inline_cluster(project: Path) -> None:
    top, profile = project / "seamless.yaml", project / "seamless.profile.yaml"
    mid, leaf = project / "analysis" / "seamless.yaml", project / "analysis" / "run1" / "seamless.yaml"
    data = show(leaf.parent, "--stage", "production")
    assert data["files"] == [str(p.resolve()) for p in (top, profile, mid, leaf)]
    settings = {s["name"]: s for s in data["settings"]}

    def expect(name: str, value: Any, path: Path, text: str, *, stage_block: str | None = None,
               inherited: Path | None = None) -> None:
        s = settings[name]
        assert s["value"] == value, name
        origin = s["origin"]
        assert origin["kind"] == "file", name
        assert (origin["file"], origin["line"]) == (str(path.resolve()), line_of(path, text)), name
        assert origin["stage_block"] == stage_block, name
        assert origin["inherited_from"] == (str(inherited.resolve()) if inherited else None), name

    expect("project", "protein-screen", top, "- project:", inherited=project)
    expect("persistent", True, top, "persistent: true", stage_block="production", inherited=project)
    expect("cluster", "workstation", profile, "- cluster: workstation", inherited=project)
    expect("subproject", "analysis", mid, "subproject:", inherited=project / "analysis")
    expect("execution", "remote", leaf, "execution: remote")  # overrides the top level's 'process'
    expect("queue", "big", leaf, "queue: big", stage_block="production")
    expect("record", True, leaf, "record: true", stage_block="production")
    assert settings["stage"]["value"] == "production" and settings["stage"]["origin"]["kind"] == "api"
    for name in ("substage", "remote", "node", "nparallel"):
        assert settings[name]["origin"]["kind"] == "default", name

    cluster = data["cluster"]
    assert cluster["name"] == "workstation" and cluster["is_local_cluster"]
    assert cluster["defined_at"] == f"{profile.resolve()}:{line_of(profile, 'workstation:')}:5"
    assert cluster["queues"]["big"]["walltime"] == {"value": "01:00:00", "from": "base"}  # TEMPLATE
    assert cluster["queues"]["big"]["cores"] == {"value": 16, "from": "big"}
    services = {s["service"]: s for s in data["services"]}
    assert list(services) == ["hashserver", "database", "jobserver"]
    assert services["hashserver"]["workdir"].endswith("/buffers/protein-screen/analysis/STAGE-production")
    assert services["jobserver"]["after"] == ["hashserver", "database"]
    assert data["warnings"] == []


def test_without_stage_the_stage_blocks_do_not_apply(project: Path) -> None:
    leaf = project / "analysis" / "run1"
    settings = {s["name"]: s for s in show(leaf)["settings"]}
    assert settings["queue"]["value"] is None and settings["queue"]["origin"]["kind"] == "default"
    assert settings["persistent"]["origin"]["kind"] == "default"
    assert settings["execution"]["value"] == "remote"


def test_show_reports_what_init_would_use(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same resolution as set_stage(): values and origins agree with the process state afterwards."""
    leaf = project / "analysis" / "run1"
    data = show(leaf, "--stage", "production")
    monkeypatch.setattr(seamless_config, "_bring_up", lambda: None)
    seamless_config.set_stage("production", workdir=leaf)
    for row in data["settings"]:
        setting = STATE.selection[row["name"]]
        assert setting.value == row["value"], row["name"]
        if setting.origin.kind == "file":
            assert setting.origin.as_json() == row["origin"], row["name"]


def test_show_warnings_and_no_cluster(tmp_path: Path) -> None:
    (tmp_path / "seamless.yaml").write_text("- project: p\n")
    data = show(tmp_path)
    assert data["cluster"] is None and data["services"] == []
    assert any("No 'execution' command found" in w for w in data["warnings"])


def test_show_text_output(project: Path) -> None:
    result = CliRunner().invoke(app, ["show", "--workdir", str(project / "analysis" / "run1"), "--stage", "production"])
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "Files read, in order:" in text and "[from TEMPLATE base]" in text
    assert "(in 'stage production')" in text and "(inherited from" in text
    assert "Services init() would bring up:" in text


def test_show_configuration_error_exit_3(tmp_path: Path) -> None:
    (tmp_path / "seamless.yaml").write_text("- project: p\n- clsuter: x\n")
    result = CliRunner().invoke(app, ["show", "--workdir", str(tmp_path)])
    assert result.exit_code == 3
    assert "did you mean 'cluster'" in result.output and "seamless.yaml:2:3" in result.output


def test_show_seamless_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEAMLESS_CACHE", str(tmp_path / "cache"))
    settings = {s["name"]: s for s in show(tmp_path)["settings"]}
    assert settings["cluster"]["origin"] == {**settings["cluster"]["origin"], "kind": "env", "detail": "SEAMLESS_CACHE"}


def test_version_and_help() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"seamless-config {seamless_config.__version__}"
    for command in ("show", "validate", "schema"):
        result = CliRunner().invoke(app, [command, "--help"])
        assert result.exit_code == 0 and "Example" in result.stdout, command


def test_unsafe_stage_is_a_configuration_error(tmp_path: Path) -> None:
    """As seamless-init and set_stage(): exit 3 with the safe-name message (show used to print it as a service note)."""
    from typer.testing import CliRunner

    from seamless_config.cli.config import app

    (tmp_path / "seamless.yaml").write_text("- project: p\n")
    result = CliRunner().invoke(app, ["show", "--workdir", str(tmp_path), "--stage", "te`st"])
    assert result.exit_code == 3 and "stage 'te`st' is not allowed" in result.output
