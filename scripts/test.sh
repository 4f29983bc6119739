#!/usr/bin/env bash
# Run the whole test suite from a fresh clone: set up, build the reference venv, test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/make_reference_venv.sh >/dev/null
.venv/bin/python -m mypy --strict src/seamless_config
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
