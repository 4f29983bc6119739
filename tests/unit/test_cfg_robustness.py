"""Seeded random mutations: bad input only ever raises ConfigurationError (never KeyError, TypeError, ...)."""

from __future__ import annotations

import copy
import random
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest
from test_cfg_launch import CLUSTERS
from unit_helpers import HPC_CLUSTER, LOCAL_CLUSTER, Project

from seamless_config import ConfigurationError, select, tools
from seamless_config.cluster import define_clusters
from seamless_config.core.resolved import check_requirements
from seamless_config.state import STATE

WEIRD: list[Any] = [None, True, False, 0, -1, 3, 2.5, "", "x", "a b", [], ["x"], [1], {}, {"a": 1},
                    {"hostname": "h"}, "1:00:00", 10**9]


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(obj, dict):
        items: Any = obj.items()
    elif isinstance(obj, list):
        items = enumerate(obj)
    else:
        return
    for key, value in items:
        yield prefix + (key,)
        yield from _paths(value, prefix + (key,))


def _configure_everything() -> None:
    for name in ("local", "hpc", "oar", "localdask", "bare", "missing"):
        select.select_cluster(name)
        select.select_project("p")
        for call in (lambda: tools.configure_hashserver("rw"), lambda: tools.configure_database("ro"),
                     tools.configure_daskserver, tools.configure_pure_daskserver,
                     lambda: select.check_remote_redundancy(name)):
            try:
                call()
            except ConfigurationError:
                pass


def test_mutated_cluster_definitions() -> None:
    rng = random.Random(1)
    paths = list(_paths(CLUSTERS))
    for _ in range(400):
        clusters = copy.deepcopy(CLUSTERS)
        path = rng.choice(paths)
        parent: Any = clusters
        for key in path[:-1]:
            parent = parent[key]
        if isinstance(parent, dict) and rng.random() < 0.2:
            del parent[path[-1]]
        else:
            parent[path[-1]] = copy.deepcopy(rng.choice(WEIRD))
        STATE.reset()
        try:
            define_clusters(clusters)
            _configure_everything()
        except ConfigurationError:
            pass
        except Exception as exc:  # pragma: no cover - the failure report
            pytest.fail(f"{type(exc).__name__}: {exc} after setting {path} in the cluster definitions")


VALUES = ["null", "yes", "no", "1", "0", "-3", "2.5", "''", "x", "local", "hpc", "highmem", "default", "remote",
          "spawn", "process", "daskserver", "jobserver", "[a]", "{a: 1}", "1:00", "'a b'", "~", "n[1-2]"]
COMMANDS = ["project", "subproject", "cluster", "execution", "queue", "remote", "persistent", "clusters", "record",
            "node", "nparallel", "inherit_from_parent"]


def test_random_command_files(project: Project) -> None:
    rng = random.Random(2)
    clusters = "- clusters:\n" + textwrap.indent(LOCAL_CLUSTER + HPC_CLUSTER, "    ")
    for _ in range(120):
        lines = [clusters] if rng.random() < 0.8 else []
        for _ in range(rng.randint(1, 6)):
            command = rng.choice(COMMANDS)
            roll = rng.random()
            if roll < 0.15:
                lines.append(f"- {command}\n")
            elif roll < 0.3:
                lines.append(f"- stage {rng.choice('ab')}:\n    - {command}: {rng.choice(VALUES)}\n")
            else:
                lines.append(f"- {command}: {rng.choice(VALUES)}\n")
        text = "".join(lines)
        project.yaml(text)
        STATE.reset()
        try:
            project.load(stage=rng.choice([None, "a", "b"]))
            check_requirements(STATE.selection)
            snap = STATE.snapshot()
            snap.remote_target()
            _ = (snap.queue, snap.persistent, snap.execution, snap.cluster)
            _configure_everything()
        except ConfigurationError:
            pass
        except Exception as exc:  # pragma: no cover - the failure report
            pytest.fail(f"{type(exc).__name__}: {exc} for\n{text}")
