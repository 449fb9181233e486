"""``ModelSpec``: which model to call, with which decoding parameters, at which price."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, NoReturn

from workbench.errors import ConfigError

from ._litellm import litellm, litellm_version
from ._secrets import MASK, is_secret_name, redact_url, url_credentials

__all__ = ["ModelSpec", "Pricing"]

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KEY_PREFIX = re.compile(r"^(sk-|sk_|AIza|xai-|gsk_|hf_)")
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # an HTTP token (RFC 9110)


def _looks_like_a_key(value: str) -> bool:
    """Known key prefixes, or a long mixed-case alphanumeric string (names are not like that)."""
    mixed = any(c.islower() for c in value) and any(c.isupper() for c in value)
    return bool(_KEY_PREFIX.match(value)) or (
        len(value) >= 24 and mixed and any(c.isdigit() for c in value)
    )


class _Headers(dict[str, str]):
    """A read-only, hashable header map (a frozen spec stays hashable and unchanged)."""

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items())))

    def __reduce__(self) -> tuple[Any, ...]:  # pickle and deepcopy without __setitem__
        return (_Headers, (dict(self),))

    def _read_only(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("a ModelSpec's headers cannot be changed; build a new ModelSpec")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _read_only
    __ior__ = _read_only


@dataclass(frozen=True)
class Pricing:
    """Prices in US dollars per million tokens, and where they came from."""

    input_per_1m: float | None
    """Price of a million prompt tokens (None when unknown and accepted)."""
    output_per_1m: float | None
    """Price of a million completion tokens (None when unknown and accepted)."""
    source: str
    """``"override"``, ``"litellm <version> local cost map"`` or ``"unknown (accepted)"``."""

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float | None:
        """Dollar cost of one call, or None when the price is unknown.

        Example:
            >>> Pricing(0.15, 0.60, "override").cost(1000, 500)
            0.00045
        """
        if self.input_per_1m is None or self.output_per_1m is None:
            return None
        return round(
            (prompt_tokens * self.input_per_1m + completion_tokens * self.output_per_1m) / 1e6, 12
        )


@dataclass(frozen=True)
class ModelSpec:
    """A model to compare: a litellm model string plus decoding parameters and pricing.

    Args:
        id: any litellm model string: ``"openai/gpt-4o-mini"``, ``"anthropic/..."``,
            ``"ollama/llama3"``, ``"openai/<name>"`` with ``api_base`` for an
            OpenAI-compatible server.
        temperature, max_tokens, seed, top_p: decoding parameters (None: provider default).
        api_base: endpoint URL for self-hosted or proxy servers. Credentials in it (a
            ``user:password@`` part, ``?api-key=``/``?key=``/``?token=``/``?sig=``...) are sent
            as given but shown and stored as ``***`` (repr, ``params()``, comparison.json,
            MLflow, reports); prefer ``api_key_env`` or ``headers_env`` for them.
        api_key_env: the *name* of the environment variable holding the API key. The key is
            read at call time and never stored in the spec, results, logs or reports. Without
            it, litellm reads the provider's usual variable (e.g. ``OPENAI_API_KEY``).
        input_price_per_1m, output_price_per_1m: a price override in dollars per million
            tokens (both or neither).
        accept_unknown_cost: run a model whose price is unknown (cost is reported as unknown
            and budgets cannot be enforced for it).
        timeout_s: per-call timeout in seconds.
        name: the label in results, tables and MLflow (default: ``id``); give one to compare
            two settings of the same model, e.g. ``ModelSpec("sim/small", temperature=0,
            name="sim/small-t0")``; simulated models keep the ``sim/`` prefix.
        max_concurrency: calls in flight to this model at most (on top of the run's limit).
        rpm, tpm: the provider's requests and tokens per minute for this model; the executor
            paces calls to stay under them.
        stream: stream the answer, which records the time to first token (``ttft_s``).
        headers: extra HTTP headers sent with every call, for values that are not secret
            (``{"X-Team": "search"}``); a credential-named header (``Authorization``,
            ``api-key``, ``X-Api-Key``, ``Cookie``, ...) or a key-shaped value is refused.
        headers_env: headers whose values are read from environment variables at call time,
            as ``{"header name": "VARIABLE_NAME"}`` (``{"api-key": "AZURE_GATEWAY_KEY"}``);
            the values never enter the spec, results, logs or reports.

    Example:
        A real model's price comes from the installed litellm's local cost map (e.g. 0.15 for
        ``ModelSpec("openai/gpt-4o-mini").pricing().input_per_1m``); a simulated model has its
        own made-up price, and an override wins over both:

        >>> ModelSpec("sim/small", temperature=0).pricing().input_per_1m
        0.4
        >>> ModelSpec("openai/m", input_price_per_1m=0.15, output_price_per_1m=0.6).pricing()
        Pricing(input_per_1m=0.15, output_per_1m=0.6, source='override')
        >>> ModelSpec("openai/m", api_base="https://me:hunter2@proxy.example/v1?key=abc")
        ModelSpec(id='openai/m', api_base='https://***@proxy.example/v1?key=***')
    """

    id: str
    temperature: float | None = None
    max_tokens: int | None = None
    seed: int | None = None
    top_p: float | None = None
    api_base: str | None = None
    api_key_env: str | None = None
    input_price_per_1m: float | None = None
    output_price_per_1m: float | None = None
    accept_unknown_cost: bool = False
    timeout_s: float = 60.0
    name: str | None = None
    max_concurrency: int | None = None
    rpm: int | None = None
    tpm: int | None = None
    stream: bool = False
    headers: Mapping[str, str] | None = None
    headers_env: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        where = f"model {self.id!r}"
        if not isinstance(self.id, str) or not self.id.strip() or self.id != self.id.strip():
            raise ConfigError(
                f"invalid model id {self.id!r}",
                fix='Pass a litellm model string such as "openai/gpt-4o-mini".',
            )
        checks = [
            (self.temperature is not None and not 0 <= self.temperature <= 2, "temperature", "0–2"),
            (self.top_p is not None and not 0 < self.top_p <= 1, "top_p", "in (0, 1]"),
            (self.max_tokens is not None and self.max_tokens < 1, "max_tokens", "≥ 1"),
            (self.timeout_s <= 0, "timeout_s", "> 0"),
            (self.max_concurrency is not None and self.max_concurrency < 1, "max_concurrency",
             "≥ 1"),
            (self.rpm is not None and self.rpm < 1, "rpm", "≥ 1"),
            (self.tpm is not None and self.tpm < 1, "tpm", "≥ 1"),
        ]
        for bad, name, allowed in checks:
            if bad:
                raise ConfigError(
                    f"{name}={getattr(self, name)!r} is out of range",
                    where=where,
                    fix=f"Use {allowed}.",
                )
        if self.simulated:
            from .sim import SIM_PROFILES

            if self.id not in SIM_PROFILES:
                raise ConfigError(
                    f"unknown simulated model {self.id!r}",
                    where=where,
                    fix=f"Use one of {', '.join(SIM_PROFILES)} (offline stand-ins), or a real "
                    "litellm model string.",
                )
            if self.name is not None and not self.name.startswith("sim/"):
                raise ConfigError(
                    f"the label {self.name!r} hides that this model is simulated",
                    where=where,
                    fix=f'Start the name with "sim/", e.g. name="sim/{self.name}".',
                )
        prices = (self.input_price_per_1m, self.output_price_per_1m)
        if (prices[0] is None) != (prices[1] is None):
            raise ConfigError(
                "only one of input_price_per_1m / output_price_per_1m is given",
                where=where,
                fix="Give both prices (dollars per million tokens) or neither.",
            )
        if any(p is not None and p < 0 for p in prices):
            raise ConfigError(
                "prices cannot be negative", where=where, fix="Use dollars per 1M tokens."
            )
        if self.api_key_env is not None:
            if _looks_like_a_key(self.api_key_env) or not _ENV_NAME.fullmatch(self.api_key_env):
                # never echo the value: it may be a real key pasted in the wrong place
                raise ConfigError(
                    "api_key_env must be the NAME of an environment variable, not a key",
                    where=where,
                    fix='Export the key (export MY_KEY=...) and pass api_key_env="MY_KEY".',
                )
        if self.api_base is not None:
            self._check_api_base(where)
        self._check_headers(where)

    def _check_api_base(self, where: str) -> None:
        if not isinstance(self.api_base, str) or not self.api_base.strip():
            raise ConfigError("api_base must be a URL such as 'http://127.0.0.1:8000/v1'",
                              where=where, fix="Pass the endpoint URL, or leave api_base out.")
        if any(v in (MASK, "[REDACTED]") for v in url_credentials(self.api_base)):
            raise ConfigError(
                "api_base holds a masked credential ('***'): it was copied from a shown or "
                "stored spec (comparison.json, MLflow, a report), where credentials are hidden",
                where=where,
                fix='Pass the key by name instead: api_key_env="MY_KEY" (or '
                    'headers_env={"api-key": "MY_KEY"}) and an api_base without credentials.')

    def _check_headers(self, where: str) -> None:
        both: dict[str, str] = {}
        for attr in ("headers", "headers_env"):
            given = getattr(self, attr)
            if given is None:
                continue
            if not isinstance(given, Mapping) or not all(
                    isinstance(k, str) and isinstance(v, str) for k, v in given.items()):
                raise ConfigError(f"{attr} must map header names to strings", where=where,
                                  fix=f'Pass e.g. {attr}={{"X-Team": "search"}}.')
            for name, value in given.items():
                if not _HEADER_NAME.fullmatch(name):
                    raise ConfigError(f"{attr}: {name!r} is not an HTTP header name",
                                      where=where, fix="Use letters, digits and '-'.")
                if name.lower() in both:
                    raise ConfigError(f"header {name!r} is given twice (headers, headers_env)",
                                      where=where, fix="Give each header once.")
                both[name.lower()] = attr
                if attr == "headers_env" and (_looks_like_a_key(value)
                                              or not _ENV_NAME.fullmatch(value)):
                    # never echo the value: it may be a real key pasted in the wrong place
                    raise ConfigError(
                        f"headers_env[{name!r}] must be the NAME of an environment variable, "
                        "not a key", where=where,
                        fix=f'Export the value (export MY_VAR=...) and pass '
                            f'headers_env={{"{name}": "MY_VAR"}}.')
                if attr == "headers" and (is_secret_name(name) or _looks_like_a_key(value)
                                          or redact_url(value) != value):
                    raise ConfigError(
                        f"header {name!r} carries a credential: it would be stored with the "
                        "spec and shown in results, MLflow and reports",
                        where=where,
                        fix=f'Export the value (export MY_VAR=...) and pass '
                            f'headers_env={{"{name}": "MY_VAR"}}: it is read at call time '
                            "and never stored.")
            object.__setattr__(self, attr, _Headers(given))

    def __repr__(self) -> str:
        """The fields that differ from their defaults; credentials in ``api_base`` as ``***``."""
        shown = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "id" or value != f.default:
                if f.name == "api_base" and isinstance(value, str):
                    value = redact_url(value)
                elif isinstance(value, _Headers):
                    value = dict(value)
                shown.append(f"{f.name}={value!r}")
        return f"ModelSpec({', '.join(shown)})"

    @property
    def label(self) -> str:
        """How the model is named in results: ``name`` if given, else ``id``."""
        return self.name or self.id

    @property
    def simulated(self) -> bool:
        """True for the offline simulated models (``sim/...``), which are not real LLMs."""
        return self.id.startswith("sim/")

    def supports_json_mode(self) -> bool:
        """Whether the provider takes ``response_format={"type": "json_object"}`` (per litellm).

        Example:
            >>> ModelSpec("openai/gpt-4o-mini").supports_json_mode()
            True
        """
        if self.simulated:
            return True  # the simulated models honour JSON mode
        from ._litellm import litellm

        try:
            params = litellm().get_supported_openai_params(model=self.id) or []
        except Exception:  # an unknown provider: plain text, parsed tolerantly
            return False
        return "response_format" in params

    def identity(self) -> dict[str, Any]:
        """What determines the model's answers (the call cache key's model part).

        Labels, limits, timeouts and prices do not change an answer, so they are left out;
        neither do credentials: ``api_base`` enters with its credentials masked (a URL
        without any is unchanged, and so are existing cache keys; a rotated key keeps the
        cache), and ``headers_env`` values are never read here. Static ``headers`` (a
        gateway may route by them) enter when given.

        Example:
            >>> a = ModelSpec("openai/m", api_base="https://u:one@h/v1").identity()
            >>> a == ModelSpec("openai/m", api_base="https://u:two@h/v1").identity(), a
            (True, {'id': 'openai/m', 'api_base': 'https://***@h/v1'})
        """
        keys = ("id", "temperature", "max_tokens", "seed", "top_p", "api_base")
        out = {k: getattr(self, k) for k in keys if getattr(self, k) is not None}
        if self.api_base is not None:
            out["api_base"] = redact_url(self.api_base)
        if self.headers:
            out["headers"] = dict(sorted(self.headers.items()))
        return out

    def pricing(self) -> Pricing:
        """Prices for cost estimates: the override, else the installed litellm's cost map.

        Raises:
            ConfigError: when the price is unknown and neither a price nor
                ``accept_unknown_cost=True`` was given (checked before any call is made).
        """
        if self.input_price_per_1m is not None and self.output_price_per_1m is not None:
            return Pricing(self.input_price_per_1m, self.output_price_per_1m, "override")
        if self.simulated:
            from .sim import SIM_PROFILES

            profile = SIM_PROFILES[self.id]
            return Pricing(profile.input_per_1m, profile.output_per_1m,
                           "simulated (made-up price of the offline sim/ model)")
        try:
            info = litellm().get_model_info(self.id)
            inp, out = info.get("input_cost_per_token"), info.get("output_cost_per_token")
        except Exception:  # litellm raises several types for an unmapped model
            inp = out = None
        if inp is not None and out is not None:
            return Pricing(
                round(float(inp) * 1e6, 9),
                round(float(out) * 1e6, 9),
                f"litellm {litellm_version()} local cost map",
            )
        if self.accept_unknown_cost:
            return Pricing(None, None, "unknown (accepted)")
        raise ConfigError(
            f"no price for this model in litellm {litellm_version()}'s local cost map",
            where=f"model {self.id!r}",
            fix="Pass input_price_per_1m=... and output_price_per_1m=... (dollars per million "
            "tokens), or accept_unknown_cost=True to run without cost accounting.",
        )

    def params(self) -> dict[str, Any]:
        """What identifies the model and its settings, safe to show and store.

        This is what comparison.json, MLflow params, reports and the plan show. It holds
        variable *names* at most (``api_key_env``, ``headers_env``), never a key, and
        ``api_base`` with its credentials masked as ``***``.

        Example:
            >>> ModelSpec("openai/m", api_base="http://me:pw@h/v1?api-key=k").params()["api_base"]
            'http://***@h/v1?api-key=***'
        """
        data = asdict(self)
        data["model"] = data.pop("id")
        if self.api_base is not None:
            data["api_base"] = redact_url(self.api_base)
        for attr in ("headers", "headers_env"):
            if data[attr] is not None:
                data[attr] = dict(data[attr])
        return {k: v for k, v in data.items() if v is not None}

    def call_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``litellm.acompletion`` (the key is read from the env now).

        Retries are off in litellm (``num_retries=0``) and in the OpenAI SDK underneath
        (``max_retries=0``): the workbench's executor owns retries (DESIGN.md, Settled 1).
        """
        kwargs: dict[str, Any] = {
            "model": self.id,
            "timeout": self.timeout_s,
            "num_retries": 0,
            "max_retries": 0,
        }
        for name in ("temperature", "max_tokens", "seed", "top_p", "api_base"):
            value = getattr(self, name)
            if value is not None:
                kwargs[name] = value
        if self.api_key_env is not None:
            kwargs["api_key"] = self._from_env(self.api_key_env)
        if self.headers or self.headers_env:
            kwargs["extra_headers"] = {
                **(self.headers or {}),
                **{name: self._from_env(var) for name, var in (self.headers_env or {}).items()},
            }
        return kwargs

    def _from_env(self, variable: str) -> str:
        value = os.environ.get(variable)
        if not value:
            raise ConfigError(
                f"environment variable {variable} is not set",
                where=f"model {self.id!r}",
                fix=f"export {variable}=... before starting Python (or Jupyter).",
            )
        return value
