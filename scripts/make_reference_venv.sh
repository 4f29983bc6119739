#!/usr/bin/env bash
# Create (idempotently) a venv holding the reference seamless-config 0.3.2 and
# exactly what is needed to import it together with the seamless-remote client
# modules, so that tests/differential/driver.py can run the reference.
#
#   scripts/make_reference_venv.sh [DIR]      (default: <repo>/.cache/reference-venv)
#
# Prints the venv's python path on stdout (last line); all pip chatter goes to
# stderr. A second run with the same pins is a no-op (a stamp file records them).
#
# Environment: PYTHON  interpreter to build the venv from (default: python3)
#
# Why these packages (checked with pip; the pinned Seamless packages go in with
# --no-deps so that pip's resolver never touches the seamless-config version):
#   seamless-config 0.3.2      the reference itself (needs PyYAML)
#   remote-http-launcher 0.4.5 imported lazily by the reference
#   seamless-core 0.1.4        the `seamless` package; needs numpy, orjson, zstandard
#   seamless-remote 0.4.0      the reference's change_stage() imports its
#                              {buffer,database,jobserver,daskserver}_remote modules;
#                              needs aiohttp, aiofiles, frozendict
#   seamless-transformer 0.6.1 seamless_remote.jobserver_remote imports
#                              seamless_transformer.record_runtime; without it the
#                              reference raises ImportError for every remote config.
#                              Needs bashlex, tqdm.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
venv="${1:-$repo/.cache/reference-venv}"
python="${PYTHON:-python3}"

pins=(
    "seamless-config==0.3.2"
    "remote-http-launcher==0.4.5"
    "seamless-core==0.1.4"
    "seamless-remote==0.4.0"
    "seamless-transformer==0.6.1"
)
deps=(PyYAML numpy orjson zstandard aiohttp aiofiles frozendict bashlex tqdm)

stamp_text="reference-venv v1: ${pins[*]} | ${deps[*]}"
stamp="$venv/.reference-venv-stamp"
vpy="$venv/bin/python"

check_imports() {
    "$vpy" - <<'EOF'
import seamless_config, seamless_config.select, seamless_config.config_files
import seamless_config.tools, seamless_config.cluster, seamless_config.pure_daskserver
import seamless_remote.buffer_remote, seamless_remote.database_remote
import seamless_remote.jobserver_remote, seamless_remote.daskserver_remote
import importlib.metadata as md
assert md.version("seamless-config") == "0.3.2", md.version("seamless-config")
EOF
}

if [[ -x "$vpy" && -f "$stamp" && "$(cat "$stamp")" == "$stamp_text" ]] \
    && "$vpy" -c "import seamless_config.config_files" 2>/dev/null; then
    echo "$vpy"
    exit 0
fi

echo "make_reference_venv: creating $venv" >&2
rm -rf "$venv"
mkdir -p "$(dirname "$venv")"
"$python" -m venv "$venv"
export PIP_DISABLE_PIP_VERSION_CHECK=1
"$vpy" -m pip install --quiet --no-deps "${pins[@]}" >&2
"$vpy" -m pip install --quiet "${deps[@]}" >&2
check_imports >&2
echo "$stamp_text" >"$stamp"
echo "$vpy"
