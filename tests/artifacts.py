"""Every artifact file of an MLflow run, downloaded: what the leak tests read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any


def downloaded_artifacts(client: Any, run_id: str, dest: Path) -> Iterator[tuple[str, Path]]:
    """(artifact path, local copy) for every file under the run's artifacts, folders walked."""
    stack = list(client.list_artifacts(run_id))
    while stack:
        art = stack.pop()
        if art.is_dir:
            stack += client.list_artifacts(run_id, art.path)
            continue
        yield art.path, Path(client.download_artifacts(run_id, art.path, str(dest)))
