"""What the cluster tests do to a daemon: kill it and wait until it is gone.

The cluster, ingestion and search tests all kill replicas (and the coordinator)
with SIGKILL mid-work; one helper serves the three, so they all wait the same way
and fail the same way when a daemon will not die.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from search.sphinx import daemons
from search.sphinx.daemons import Daemon


def sigkill(directory: Path, daemon: Daemon) -> None:
    """SIGKILL *daemon* of the cluster in *directory* and wait until it is gone."""
    pid = daemons.pid_of(directory, daemon)
    assert pid is not None, f"{daemon.name} is not running"
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while daemons.pid_of(directory, daemon) is not None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert daemons.pid_of(directory, daemon) is None, f"{daemon.name} did not die"
