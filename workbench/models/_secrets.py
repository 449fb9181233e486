"""Keep API keys and credentials out of error messages, logs, results and shown specs.

Two kinds of help:

- :func:`redact` scrubs free text (error messages, logged values): values of secret-named
  environment variables, key-shaped strings and credentials inside URLs.
- :func:`redact_url` is the shown and stored form of an endpoint URL: its userinfo
  (``user:password@``), secret query or fragment parameters (``?api-key=``, ``key``, ``token``,
  ``sig``, ...) and key-shaped path parts become ``***``; a URL without credentials comes back
  unchanged, character for character.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote_plus, urlsplit, urlunsplit

__all__ = ["MASK", "environment", "is_secret_name", "redact_secrets", "redact_url", "secret_values",
           "url_credentials"]

MASK = "***"
"""What a credential is replaced with in a shown or stored spec."""

_SECRET_ENV = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD", re.IGNORECASE)
_KEY_SHAPES = re.compile(
    r"\b(sk-[A-Za-z0-9_\-*]{8,}|sk_[A-Za-z0-9_\-]{8,}|AIza[0-9A-Za-z_\-]{20,}|xai-[A-Za-z0-9]{8,}"
    r"|gsk_[A-Za-z0-9]{8,}|hf_[A-Za-z0-9]{8,}|Bearer\s+[A-Za-z0-9._\-]{8,})"
)
_URL_IN_TEXT = re.compile(r"\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>`]+")

# names (of query parameters, headers) whose values are credentials; compared after lowering
# and turning "-", "." and spaces into "_"
_SECRET_NAMES = frozenset({
    "key", "apikey", "api_key", "token", "access_token", "accesstoken", "refresh_token",
    "id_token", "auth", "auth_token", "authorization", "proxy_authorization", "sig",
    "signature", "password", "passwd", "pwd", "pass", "secret", "client_secret", "jwt",
    "bearer", "cookie", "set_cookie", "session", "sessionid", "session_id", "sas", "code",
    "credential", "credentials", "private_key", "subscription_key",
})
_SECRET_PARTS = frozenset({"key", "apikey", "token", "secret", "password", "passwd", "pwd",
                           "sig", "signature", "auth", "credential", "credentials", "jwt",
                           "cookie"})
_SECRET_ENDINGS = ("token", "apikey", "secret", "password")


def is_secret_name(name: str) -> bool:
    """Whether a query parameter or header of this name carries a credential.

    Case-insensitive; ``-``, ``.`` and ``_`` separate words (``X-Api-Key``, ``access_token``,
    ``X-Amz-Signature``, ``Ocp-Apim-Subscription-Key``).

    Example:
        >>> [is_secret_name(n) for n in ("api-key", "Authorization", "sig", "deployment")]
        [True, True, True, False]
    """
    norm = re.sub(r"[-.\s]+", "_", name.strip().lower())
    if norm in _SECRET_NAMES:
        return True
    parts = [p for p in norm.split("_") if p]
    return any(p in _SECRET_PARTS or p.endswith(_SECRET_ENDINGS) for p in parts)


def environment() -> dict[str, str]:
    """A snapshot of ``os.environ`` that is safe while other threads change it.

    Iterating ``os.environ`` (``items()``, ``dict(os.environ)``, ``os.environ.copy()``) looks
    each name up again, so a variable deleted meanwhile by another thread (MLflow's telemetry
    does that) raises ``KeyError``. Here the names are listed once and a name that vanished is
    skipped.

    Example:
        >>> "PATH" in environment()
        True
    """
    snapshot: dict[str, str] = {}
    for name in list(os.environ):
        value = os.environ.get(name)
        if value is not None:
            snapshot[name] = value
    return snapshot


def _mask_params(text: str, sep: str = "&") -> tuple[str, list[str]]:
    """``name=value`` pairs with secret names masked (the rest kept exactly as written)."""
    found: list[str] = []
    pieces = []
    for piece in text.split(sep):
        name, eq, value = piece.partition("=")
        if eq and value and is_secret_name(unquote_plus(name)):
            found += dict.fromkeys((value, unquote_plus(value)))
            piece = f"{name}={MASK}"
        pieces.append(piece)
    return sep.join(pieces), found


def _split_credentials(url: str) -> tuple[str, list[str]]:
    """The URL with credentials masked, and the credential values found."""
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. "[" outside an IPv6 host: mask what looks like userinfo
        loose = re.search(r"(?<=//)([^/@\s]+)@", url)
        if loose is None:
            return url, []
        return url.replace(loose.group(0), MASK + "@", 1), [loose.group(1)]
    found: list[str] = []
    netloc, query, fragment = parts.netloc, parts.query, parts.fragment
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        found += [v for v in (parts.username, parts.password) if v]
        if not found:
            found.append(userinfo)
        netloc = f"{MASK}@{host}"
    if query:
        query, secrets = _mask_params(query)
        found += secrets
    if fragment and "=" in fragment:
        fragment, secrets = _mask_params(fragment)
        found += secrets
    if not found:
        masked = url
    else:
        masked = urlunsplit((parts.scheme, netloc, parts.path, query, fragment))
    shaped = _KEY_SHAPES.sub(MASK, masked)
    if shaped != masked:
        found += [m.group(0) for m in _KEY_SHAPES.finditer(masked)]
    return shaped, found


def redact_url(url: str) -> str:
    """The URL as it may be shown or stored: userinfo, secret parameters and keys as ``***``.

    A URL without credentials is returned unchanged, so its cache keys stay the same.

    Example:
        >>> redact_url("https://me:hunter2@proxy.example/v1?api-version=2024-06&api-key=abc")
        'https://***@proxy.example/v1?api-version=2024-06&api-key=***'
        >>> redact_url("http://127.0.0.1:8000/v1")
        'http://127.0.0.1:8000/v1'
    """
    return _split_credentials(url)[0]


def url_credentials(url: str) -> list[str]:
    """The credential values a URL carries (userinfo, secret parameters), for scrubbing text.

    Example:
        >>> url_credentials("https://me:hunter2@proxy.example/v1?key=abc")
        ['me', 'hunter2', 'abc']
    """
    return _split_credentials(url)[1]


def secret_values(call_kwargs: Mapping[str, Any]) -> tuple[str, ...]:
    """Every credential in a call's keyword arguments: the key, secret headers, URL secrets.

    Pass the result as ``extra`` to :func:`redact` when an error of that call is recorded.

    Example:
        >>> secret_values({"api_key": "k-123", "extra_headers": {"api-key": "h-456"},
        ...                "api_base": "https://u:p-789@host/v1"})
        ('k-123', 'h-456', 'u', 'p-789')
    """
    values: list[str] = []
    key = call_kwargs.get("api_key")
    if isinstance(key, str):
        values.append(key)
    headers = call_kwargs.get("extra_headers") or {}
    if isinstance(headers, Mapping):
        values += [v for v in headers.values() if isinstance(v, str)]
    base = call_kwargs.get("api_base")
    if isinstance(base, str):
        values += url_credentials(base)
    return tuple(values)


def redact_secrets(text: str, extra: Iterable[str] = ()) -> str:
    """Replace secret values, key-shaped strings and URL credentials with ``[REDACTED]``.

    Secret values are those of environment variables whose names hold KEY, TOKEN, SECRET,
    PASSWORD or PASSWD (read from a snapshot, so another thread changing the
    environment meanwhile cannot break it), plus ``extra``; values shorter than 8 characters
    are left (too likely to hit ordinary words).

    Example:
        >>> redact_secrets("Incorrect API key provided: sk-abc123def456ghi")
        'Incorrect API key provided: [REDACTED]'
        >>> redact_secrets("cannot reach https://me:hunter2@proxy.example/v1")
        'cannot reach https://[REDACTED]@proxy.example/v1'
    """
    env = environment()
    secrets = [v for k, v in env.items() if _SECRET_ENV.search(k) and len(v) >= 8]
    for value in sorted({*secrets, *(e for e in extra if len(e) >= 8)}, key=len, reverse=True):
        text = text.replace(value, "[REDACTED]")
    text = _URL_IN_TEXT.sub(_redact_url_in_text, text)
    return _KEY_SHAPES.sub("[REDACTED]", text)


def _redact_url_in_text(match: re.Match[str]) -> str:
    url = match.group(0)
    core = url.rstrip(".,;:!?)]}")  # sentence punctuation after a URL is not part of it
    return redact_url(core).replace(MASK, "[REDACTED]") + url[len(core):]
