"""Where the benchmarks find the shared corpora: ``$VNSEARCH_SHARED/corpora``
(default ``../shared`` next to the repository), as the tests find them, so one
setting points every script and test at the same read-only archives."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
#: The shared corpora folder (read-only; never copied into the repository).
CORPORA = Path(os.environ.get("VNSEARCH_SHARED", REPO.parent / "shared")) / "corpora"
#: VNTC, 84k articles as gzipped JSONL.
VNTC = CORPORA / "vntc.jsonl.gz"
#: The baomoi-2017 crawl, 35k raw .txt files in a tarball.
BAOMOI = CORPORA / "baomoi-2017.tar.gz"
