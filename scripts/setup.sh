#!/usr/bin/env bash
# Create .venv with seamless-config and everything a local cluster and the tests need.
# Idempotent; installs Debian's OpenSSH (client and server) when missing and we are root.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

if ! command -v ssh >/dev/null 2>&1 || [ ! -x /usr/sbin/sshd ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "setup: installing openssh-client and openssh-server" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq openssh-client openssh-server >/dev/null
    else
        echo "setup: warning: OpenSSH is missing and cannot be installed here; SSH tests will be skipped" >&2
    fi
fi

if ! "$PY" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "setup: installing python3-venv" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
    else
        echo "setup: '$PY -m venv' is unavailable; install python3-venv" >&2
        exit 1
    fi
fi

if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
quiet_pip() {  # this machine's pip.conf names absent local indexes: drop that noise, keep errors
    .venv/bin/python -m pip install -q --disable-pip-version-check "$@" 2>&1 | { grep -v "^WARNING: Location" || true; }
}
quiet_pip -U pip
quiet_pip -e '.[local,test]'
