"""Fixtures of the remote-layer tests; the shared code is in remote_helpers.py.

(Test modules import from ``remote_helpers``, never from ``conftest``: every
test directory has a conftest, and only one of them can be the module named
``conftest``.)
"""

from remote_helpers import local_env, ssh_env, sshd  # noqa: F401  (fixtures)
