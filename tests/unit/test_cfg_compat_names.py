"""The reference's private module globals exist as views of the one state object.

seamless-transformer 0.6.1's tests/test_probe_cli.py resets them with
``monkeypatch.setattr(..., raising=True)``; they must exist, read the state
and write it.
"""

from __future__ import annotations

import pytest
from unit_helpers import HPC_CLUSTER, Project

import seamless_config
import seamless_config.select as select
from seamless_config.state import STATE

PACKAGE_NAMES = ("_initialized", "_set_workdir_called", "_remote_clients_set", "_workdir")
SELECT_NAMES = (
    "_current_cluster", "_current_project", "_current_subproject", "_current_stage", "_current_substage",
    "_current_execution", "_execution_source", "_execution_command_seen", "_current_persistent",
    "_persistent_source", "_persistent_command_seen", "_current_queue", "_queue_source", "_queue_cluster",
    "_current_remote", "_remote_source", "_current_record", "_record_source", "_record_command_seen",
    "_current_node", "_node_source", "_current_nparallel",
)


def test_names_exist_with_reference_defaults() -> None:
    for name in PACKAGE_NAMES:
        assert hasattr(seamless_config, name), name
    for name in SELECT_NAMES:
        assert hasattr(select, name), name
    assert select._current_execution == "process" and select._current_record is False
    assert seamless_config._workdir is None and seamless_config._initialized is False


def test_reads_follow_the_state(project: Project) -> None:
    project.clusters_file(HPC_CLUSTER)
    project.yaml("- project: p\n- cluster: hpc\n- queue: highmem\n- execution: remote\n")
    project.load()
    assert select._current_cluster == "hpc" and select._current_project == "p"
    assert (select._current_queue, select._queue_source, select._queue_cluster) == ("highmem", "command", "hpc")
    assert select._execution_source == "command" and select._execution_command_seen is True
    STATE.initialized = True
    assert seamless_config._initialized is True


def test_monkeypatch_resets_and_restores(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    project.clusters_file(HPC_CLUSTER)
    project.yaml("- project: p\n- cluster: hpc\n- execution: spawn\n")
    project.load()
    STATE.initialized = True
    with monkeypatch.context() as m:
        m.setattr(seamless_config, "_initialized", False)
        m.setattr(select, "_current_cluster", None)
        m.setattr(select, "_current_execution", "process")
        m.setattr(select, "_execution_source", None)
        assert STATE.initialized is False
        assert select.get_selected_cluster() is None
        assert select.get_execution() == "process" and not select.execution_was_set_explicitly()
    assert STATE.initialized is True  # monkeypatch's undo writes the old values back
    assert select.get_selected_cluster() == "hpc" and select.get_execution() == "spawn"


def test_other_attributes_are_ordinary(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(AttributeError):
        select._no_such_name  # noqa: B018
    monkeypatch.setattr(select, "DOES_NOT_MATTER", 1, raising=False)
    assert select.DOES_NOT_MATTER == 1  # type: ignore[attr-defined]
