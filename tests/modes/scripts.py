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
