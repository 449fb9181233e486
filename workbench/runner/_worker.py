"""Entry point of a worker process (``python -m workbench.runner._worker FD``); see ``_pool``."""

from __future__ import annotations

import sys

if __name__ == "__main__":
    from workbench.runner._pool import worker_main

    worker_main(int(sys.argv[1]))
