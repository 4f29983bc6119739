"""A transformation run through the local cluster's jobserver; a second run is a cache hit.

Run from this directory after `seamless-init` (scripts/demo.sh does both). The
function body appends a line to executions.log, so you can see that the second
run did not execute it: its result came from seamless-database.
"""

import os
import time

import seamless
import seamless.config
from seamless.transformer import delayed

t0 = time.monotonic()
seamless.config.init()  # reads seamless.yaml + seamless.profile.yaml next to this script
log = os.path.abspath("executions.log")


@delayed
def add(a, b, log):
    import os

    with open(log, "a") as f:  # runs in a jobserver worker, not in this process
        f.write(f"executed in process {os.getpid()}\n")
    return a + b


result = add(19, 23, log).run()
executions = open(log).read().count("\n") if os.path.exists(log) else 0
print(f"add(19, 23) = {result}  ({time.monotonic() - t0:.2f}s; the function has executed {executions}x so far)")
seamless.close()
