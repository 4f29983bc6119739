"""Importing is cheap and the ecosystem sees every public name (fresh interpreters)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

FORBIDDEN = ("seamless", "seamless_remote", "seamless_transformer", "asyncssh", "aiohttp", "ruamel")


def run(code: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEAMLESS_")}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_import_seamless_config_is_cheap() -> None:
    out = run(
        "import sys, json, seamless_config\n"
        "import seamless_config.select, seamless_config.cluster, seamless_config.tools\n"
        "import seamless_config.config_files, seamless_config.extern_clients, seamless_config.state\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})))\n"
    )
    assert json.loads(out) == []


def test_seamless_config_exports_every_name_it_lists() -> None:
    out = run(
        "import json, seamless_config\n"
        "print(json.dumps([n for n in seamless_config.__all__ if not hasattr(seamless_config, n)]))\n"
    )
    assert json.loads(out) == []


def test_seamless_config_facade_via_seamless_core() -> None:
    out = run(
        "import json, seamless_config, seamless.config\n"
        "missing = [n for n in seamless_config.__all__ if not hasattr(seamless.config, n)]\n"
        "same = all(getattr(seamless.config, n) is getattr(seamless_config, n) for n in seamless_config.__all__"
        " if hasattr(seamless.config, n))\n"
        "print(json.dumps({'missing': missing, 'same': same, 'all': seamless_config.__all__}))\n"
    )
    result = json.loads(out)
    assert result["missing"] == []
    assert result["same"] is True
    for name in ("init", "ainit", "set_stage", "set_substage", "set_workdir", "set_nparallel", "get_nparallel",
                 "select_record", "change_stage", "get_seamless_cache", "collect_remote_clients",
                 "set_remote_clients", "ConfigurationError"):
        assert name in result["all"], name


def test_ecosystem_names_exist() -> None:
    out = run(
        "import json, importlib\n"
        "wanted = {\n"
        " 'seamless_config': ['init', 'set_stage', 'set_substage', 'set_workdir', 'set_nparallel', 'get_nparallel',"
        "  'change_stage', 'get_seamless_cache', 'collect_remote_clients', 'set_remote_clients', 'ConfigurationError'],\n"
        " 'seamless_config.select': ['get_current', 'get_selected_cluster', 'get_execution', 'select_execution',"
        "  'select_project', 'select_subproject', 'select_node', 'get_node', 'get_queue', 'get_remote', 'get_record',"
        "  'get_nparallel', 'check_remote_redundancy', 'select_cluster', 'select_queue', 'select_remote',"
        "  'select_persistent', 'select_record', 'select_stage', 'select_substage', 'get_stage', 'get_persistent'],\n"
        " 'seamless_config.cluster': ['get_cluster', 'get_local_cluster', 'define_clusters'],\n"
        " 'seamless_config.tools': ['configure_hashserver', 'configure_database', 'configure_jobserver',"
        "  'configure_daskserver', 'configure_pure_daskserver'],\n"
        " 'seamless_config.config_files': ['load_config_files'],\n"
        " 'seamless_config.extern_clients': ['collect_remote_clients', 'set_remote_clients',"
        "  'set_remote_clients_from_env'],\n"
        "}\n"
        "print(json.dumps({m: [n for n in ns if not hasattr(importlib.import_module(m), n)]"
        " for m, ns in wanted.items()}))\n"
    )
    assert all(not missing for missing in json.loads(out).values()), out


def test_configuration_error_is_a_runtime_error() -> None:
    import seamless_config

    assert issubclass(seamless_config.ConfigurationError, RuntimeError)
    assert issubclass(seamless_config.ConfigFileError, ValueError)
    assert issubclass(seamless_config.ConfigFileError, seamless_config.ConfigurationError)
