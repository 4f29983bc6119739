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

# argv: SPEC_JSON. Everything the launcher does on the host for one service, in
# one remote call (lock + read state + launch + watch), so that a cold launch
# costs one session instead of four:
#   1. hold the lock of KEY; read its state (a dry-run state is removed);
#   2. "running": print {"event": "found", "data": ...} and exit (the caller validates it);
#   3. a stale state (not "starting" with a PID) is removed;
#   4. no state: launch -- spec "request" (no conda): spawn the service as
#      rhl-launch-service does (same log, same state JSON, own session); with
#      spec "late": print {"event": "spawned", "pid": N}, read the parameters as one
#      JSON line from stdin, then write the state (the service waits for it; EOF
#      instead: stop it). spec "helper": run that rhl-launch-service argv instead.
#   5. release the lock and watch the state as WATCH_SCRIPT does; print
#      {"event": "state"|"dead"|"timeout"|"launch-failed", "data": ..., "launched": bool}.
# "~/.remote-http-launcher/server" in the argv is replaced by the real server dir.
ENSURE_SCRIPT = r"""
import fcntl, json, os, pathlib, shlex, shutil, signal, subprocess, sys, tempfile, time
spec = json.loads(sys.argv[1])
base = pathlib.Path(os.environ.get("REMOTE_HTTP_LAUNCHER_DIR", "~/.remote-http-launcher")).expanduser()
server = base / "server"
key = spec["key"]
path = server / (key + ".json")
interval = float(spec["interval"])
DEFAULT = "~/.remote-http-launcher/server"

def out(**message):
    message["server_dir"] = str(server)
    print(json.dumps(message), flush=True)

def read():
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None

def remove():
    try:
        path.unlink()
    except FileNotFoundError:
        pass

def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open("/proc/%d/stat" % pid) as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return fields[0] not in ("Z", "X") and not int(fields[6]) & 4
    except (OSError, IndexError, ValueError):
        return True

def fix(arg):
    arg = arg.replace(DEFAULT, str(server))
    return os.path.expanduser(arg) if arg == "~" or arg.startswith("~/") else arg

def write_state(request, pid, log, argv, parameters):
    data = {"workdir": request["workdir"], "log": log, "command": shlex.join(argv),
            "uid": os.getuid(), "pid": pid, "status": "starting"}
    if request.get("network_interface") is not None:
        data["network_interface"] = request["network_interface"]
    if parameters is not None:
        data["parameters"] = parameters
    if request.get("meta") is not None:
        data["meta"] = request["meta"]
    fd, tmp = tempfile.mkstemp(prefix="." + key + ".", suffix=".tmp", dir=str(server))
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
    os.replace(tmp, str(path))

locks = base / "locks"
locks.mkdir(parents=True, exist_ok=True)
server.mkdir(parents=True, exist_ok=True)
lock = os.open(str(locks / (key + ".lock")), os.O_RDWR | os.O_CREAT, 0o600)
deadline = time.monotonic() + float(spec["lock_timeout"])
while True:
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        break
    except BlockingIOError:
        if time.monotonic() > deadline:
            out(event="lock-timeout", data=None, launched=False)
            sys.exit(0)
        time.sleep(0.02)
data = read()
if data is not None and data.get("dry_run"):
    remove()
    data = None
status = data.get("status") if data is not None else None
if status == "running":
    out(event="found", data=data, launched=False)
    sys.exit(0)
stale = False
if data is not None and (status != "starting" or not isinstance(data.get("pid"), int)):
    remove()
    data = None
    stale = True
launched = False
pid = data.get("pid") if data is not None else None
if data is None:
    request = spec.get("request")
    if request is None:
        done = subprocess.run([fix(a) for a in spec["helper"]], stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
        if done.returncode != 0:
            out(event="launch-failed", data=None, launched=False, stale_removed=stale,
                error=(done.stderr.strip() or done.stdout.strip()))
            sys.exit(0)
    else:
        argv = [fix(a) for a in request["service_argv"]]
        executable = shutil.which(argv[0])
        workdir = pathlib.Path(fix(request["workdir"]))
        if executable is None:
            out(event="launch-failed", data=None, launched=False, stale_removed=stale,
                error="%r is not on PATH on this host" % argv[0])
            sys.exit(0)
        workdir.mkdir(parents=True, exist_ok=True)
        log = server / (key + ".log")
        with open(str(log), "wb", buffering=0) as handle:
            process = subprocess.Popen([executable] + argv[1:], cwd=str(workdir), stdout=handle,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        pid = process.pid
        parameters = request.get("parameters")
        if spec.get("late"):
            out(event="spawned", pid=pid, data=None, launched=True)
            line = sys.stdin.readline()
            message = json.loads(line) if line.strip() else None
            if not isinstance(message, dict) or not alive(pid):
                if alive(pid):
                    os.kill(pid, signal.SIGTERM)
                out(event="abandoned", data=None, launched=True)
                sys.exit(0)
            parameters = message
        write_state(request, pid, log.as_posix(), argv, parameters)
    launched = True
os.close(lock)
deadline = time.monotonic() + float(spec["within"])

def report(event, data):
    out(event=event, data=data, launched=launched, stale_removed=stale)
    sys.exit(0)

while True:
    data = read()
    if pid is None and data is not None and isinstance(data.get("pid"), int):
        pid = data["pid"]
    if data is None or data.get("status") != "starting" or data.get("pid") != pid:
        if data is not None and data.get("status") == "failed" and pid is not None:
            grace = time.monotonic() + 2.0
            while alive(pid) and time.monotonic() < grace:
                time.sleep(interval)
        report("state", data)
    if pid is not None and not alive(pid):
        data = read()
        if data is not None and data.get("status") == "starting":
            report("dead", data)
        report("state", data)
    if time.monotonic() > deadline:
        report("timeout", data)
    time.sleep(interval)
"""
