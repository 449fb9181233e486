"""Keep API keys out of error messages, logs and results."""

from __future__ import annotations

import os
import re

__all__ = ["redact"]

_SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD)", re.IGNORECASE)
_KEY_SHAPES = re.compile(
    r"\b(sk-[A-Za-z0-9_\-*]{8,}|sk_[A-Za-z0-9_\-]{8,}|AIza[0-9A-Za-z_\-]{20,}|xai-[A-Za-z0-9]{8,}"
    r"|gsk_[A-Za-z0-9]{8,}|hf_[A-Za-z0-9]{8,}|Bearer\s+[A-Za-z0-9._\-]{8,})"
)


def redact(text: str, extra: tuple[str, ...] = ()) -> str:
    """Replace secret values from the environment and key-shaped strings with ``[REDACTED]``.

    Example:
        >>> redact("Incorrect API key provided: sk-abc123def456ghi")
        'Incorrect API key provided: [REDACTED]'
    """
    secrets = [v for k, v in os.environ.items() if _SECRET_NAME.search(k) and len(v) >= 8]
    for value in sorted({*secrets, *(e for e in extra if len(e) >= 8)}, key=len, reverse=True):
        text = text.replace(value, "[REDACTED]")
    return _KEY_SHAPES.sub("[REDACTED]", text)
