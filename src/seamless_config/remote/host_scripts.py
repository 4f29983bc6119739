"""Small Python programs run on an SSH host with ``python3 -c`` over the open connection.

They take their inputs as argv (never interpolated into the source) and
resolve the launcher directory exactly as the ``rhl-*`` helpers do
(``$REMOTE_HTTP_LAUNCHER_DIR`` or ``~/.remote-http-launcher``).
"""

from __future__ import annotations

# argv: KEY TIMEOUT. Prints "locked <server dir>" once the lock is held, then
# holds it until stdin closes (our side finished, or the connection died).
LOCK_SCRIPT = r"""
import fcntl, os, pathlib, sys, time
base = pathlib.Path(os.environ.get("REMOTE_HTTP_LAUNCHER_DIR", "~/.remote-http-launcher")).expanduser()
locks = base / "locks"
locks.mkdir(parents=True, exist_ok=True)
fd = os.open(str(locks / (sys.argv[1] + ".lock")), os.O_RDWR | os.O_CREAT, 0o600)
deadline = time.monotonic() + float(sys.argv[2])
while True:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        break
    except BlockingIOError:
        if time.monotonic() > deadline:
            print("timeout", flush=True)
            sys.exit(3)
        time.sleep(0.02)
print("locked " + str(base / "server"), flush=True)
sys.stdin.read()
"""

# argv: KEY PID TIMEOUT INTERVAL. Watches the state file of KEY while its
# status is "starting" and PID lives (PID "-": the one in the state file);
# prints one JSON line and exits:
# {"event": "state"|"dead"|"timeout", "data": <state or null>}.
WATCH_SCRIPT = r"""
import json, os, pathlib, sys, time
base = pathlib.Path(os.environ.get("REMOTE_HTTP_LAUNCHER_DIR", "~/.remote-http-launcher")).expanduser()
path = base / "server" / (sys.argv[1] + ".json")
pid = None if sys.argv[2] == "-" else int(sys.argv[2])
deadline = time.monotonic() + float(sys.argv[3])
interval = float(sys.argv[4])

def read():
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None

def alive():
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open("/proc/%d/stat" % pid) as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return fields[0] not in ("Z", "X") and not int(fields[6]) & 4  # PF_EXITING
    except (OSError, IndexError, ValueError):
        return True

def report(event, data):
    print(json.dumps({"event": event, "data": data}), flush=True)
    sys.exit(0)

while True:
    data = read()
    if pid is None and data is not None and isinstance(data.get("pid"), int):
        pid = data["pid"]
    if data is None or data.get("status") != "starting" or data.get("pid") != pid:
        if data is not None and data.get("status") == "failed" and pid is not None:
            # It prints its traceback while exiting: let it finish (log tail).
            grace = time.monotonic() + 2.0
            while alive() and time.monotonic() < grace:
                time.sleep(interval)
        report("state", data)
    if not alive():
        data = read()
        if data is not None and data.get("status") == "starting":
            report("dead", data)
        report("state", data)
    if time.monotonic() > deadline:
        report("timeout", data)
    time.sleep(interval)
"""
