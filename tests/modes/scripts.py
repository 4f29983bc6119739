"""The user scripts the mode tests run (each in its own process, cwd = the project)."""

# argv: marker file, salt. The body appends its PID to the marker: one line per real execution.
ADD = """
    import faulthandler, json, os, sys, time

    faulthandler.dump_traceback_later(float(os.environ.get("MODES_DUMP_AFTER", "80")), exit=True)
    t0 = time.monotonic()
    import seamless
    import seamless.config
    from seamless.transformer import delayed

    seamless.config.init()
    t_init = time.monotonic() - t0

    @delayed
    def add(a, b, marker, salt):
        import os
        with open(marker, "a") as f:
            f.write(f"{os.getpid()}\\n")
        return a + b

    tf = add(19, 23, sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "")
    cached_before = tf.is_cached()   # the call that used to kill the input uploads (seamless-transformer 0.6.1)
    result = tf.run()
    t_result = time.monotonic() - t0
    cached_after = tf.is_cached()
    print("MODES-RESULT", json.dumps({
        "result": result, "cached_before": cached_before, "cached_after": cached_after,
        "tf_checksum": tf.transformation_checksum.hex(), "result_checksum": tf.result_checksum.hex(),
        "client_pid": os.getpid(), "init_seconds": round(t_init, 3), "first_result_seconds": round(t_result, 3),
    }), flush=True)
    seamless.close()
"""

# Two transformations at once under execution: spawn; each reports (pid, start, end).
SPAWN = """
    import asyncio, faulthandler, json, os, sys, time

    import seamless
    import seamless.config
    from seamless.transformer import delayed

    @delayed
    def nap(seconds, label):
        import os, time
        start = time.time()
        time.sleep(seconds)
        return [os.getpid(), start, time.time()]

    async def both():
        return await asyncio.gather(nap(2.0, "a").task(), nap(2.0, "b").task())

    if __name__ == "__main__":
        faulthandler.dump_traceback_later(100, exit=True)
        t0 = time.monotonic()
        seamless.config.init()
        results = asyncio.run(both())
        print("MODES-RESULT", json.dumps({"results": results, "client_pid": os.getpid(),
              "first_result_seconds": round(time.monotonic() - t0, 3)}), flush=True)
        seamless.close()
"""

# The client: init, write a buffer, forward its clients to a separate worker process through
# SEAMLESS_REMOTE_CLIENTS; the worker reads the buffer and writes a result the client reads back.
FORWARD_CLIENT = """
    import asyncio, faulthandler, json, os, subprocess, sys
    faulthandler.dump_traceback_later(100, exit=True)
    import seamless
    import seamless.config
    import seamless_config
    from seamless import Buffer, Checksum
    from seamless_remote import buffer_remote

    seamless.config.init()
    clients = seamless_config.collect_remote_clients(sys.argv[1])
    data = Buffer(b"written by the client " + str(os.getpid()).encode())
    checksum = data.get_checksum()
    assert asyncio.run(buffer_remote.write_buffer(checksum, data)) is True
    env = dict(os.environ, SEAMLESS_REMOTE_CLIENTS=json.dumps(clients))
    init = subprocess.run(["seamless-init"], env=env, capture_output=True, text=True, timeout=30)
    worker = subprocess.run([sys.executable, "forward_worker.py", checksum.hex()], env=env,
                            capture_output=True, text=True, timeout=60)
    assert worker.returncode == 0, worker.stderr
    reply = json.loads(worker.stdout.strip().splitlines()[-1])
    back = asyncio.run(buffer_remote.get_buffer(Checksum(reply["result"])))
    print("MODES-RESULT", json.dumps({"clients": clients, "seamless_init_rc": init.returncode,
          "seamless_init_output": init.stdout + init.stderr, "worker": reply,
          "read_back": back.content.decode() if back is not None else None,
          "written": data.content.decode()}), flush=True)
    seamless.close()
"""

FORWARD_WORKER = """
    import asyncio, json, os, sys
    import seamless_config
    assert seamless_config.set_remote_clients_from_env(include_dask=False)
    from seamless import Buffer, Checksum
    from seamless_remote import buffer_remote
    got = asyncio.run(buffer_remote.get_buffer(Checksum(sys.argv[1])))
    result = Buffer(got.content.upper() + b" / read by worker " + str(os.getpid()).encode())
    ok = asyncio.run(buffer_remote.write_buffer(result.get_checksum(), result))
    print(json.dumps({"read": got.content.decode(), "result": result.get_checksum().hex(), "ok": ok,
                      "pid": os.getpid()}))
"""

# argv: salt, "api" to call select_record(True) before init. Prints the tf checksum.
RECORD = """
    import faulthandler, json, os, sys
    faulthandler.dump_traceback_later(80, exit=True)
    import seamless
    import seamless.config
    from seamless.transformer import delayed

    if len(sys.argv) > 2 and sys.argv[2] == "api":
        seamless.config.select_record(True)
    seamless.config.init()

    @delayed
    def mul(a, b, salt):
        return a * b

    tf = mul(6, 7, sys.argv[1])
    result = tf.run()
    print("MODES-RESULT", json.dumps({"result": result, "tf_checksum": tf.transformation_checksum.hex()}), flush=True)
    seamless.close()
"""
