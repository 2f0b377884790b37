"""One client per process, created lazily, and re-created in a forked child.

Trainers fork (DataLoader workers, Ray, multiprocessing reward managers). A connection pool copied
across a fork shares sockets with the parent, so a child must never use it. Clients are cached per
`os.getpid()`, and the cache and its lock are reset in the child by `os.register_at_fork`.
"""

from __future__ import annotations

import os
import threading
from typing import Dict, Optional, Tuple

from ._client import ArbiterClient

_lock = threading.Lock()
_clients: Dict[Tuple[int, str, Optional[str]], ArbiterClient] = {}


def _after_fork_in_child() -> None:
    global _lock
    _lock = threading.Lock()  # another thread may have held the old one at fork time
    _clients.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def client_for_process(
    base_url: Optional[str] = None, token: Optional[str] = None, **options: object
) -> ArbiterClient:
    """The client this process uses for (base_url, token); created on first use."""
    probe = ArbiterClient(base_url, token, **options)  # resolves env defaults; opens nothing
    key = (os.getpid(), probe.base_url, probe.token)
    with _lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = probe
        return client
