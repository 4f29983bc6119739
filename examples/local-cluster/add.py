"""A transformation run through the local cluster's jobserver; a second run is a cache hit.

Run from this directory after `seamless-init` (scripts/demo.sh does both).
"""

import os
import time

import seamless
import seamless.config
from seamless.transformer import delayed

t0 = time.monotonic()
seamless.config.init()  # reads seamless.yaml + seamless.profile.yaml next to this script


@delayed
def add(a, b):
    import os

    print(f"  (computing {a} + {b} in process {os.getpid()})")
    return a + b


tf = add(19, 23)
cached = tf.is_cached()  # asks seamless-database
result = tf.run()
print(f"add(19, 23) = {result}   cache hit: {cached}   client pid {os.getpid()}, "
      f"{time.monotonic() - t0:.2f}s")
seamless.close()
