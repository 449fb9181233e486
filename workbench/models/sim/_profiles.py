"""The simulated models' invented prices, latencies and skills, and the reply record."""

from __future__ import annotations

from dataclasses import dataclass

from workbench.errors import ConfigError

PROVIDER = "sim"


@dataclass(frozen=True)
class SimProfile:
    """Invented price, latency and skill of one simulated model (not a real LLM).

    Probabilities are per call and drawn from the seeded generator, so a weaker profile makes
    more of the mistakes a hard text invites, not random mistakes everywhere.
    """

    name: str
    """The litellm model id, e.g. ``"sim/large"``."""
    input_per_1m: float
    """Made-up price in US dollars per million prompt tokens."""
    output_per_1m: float
    """Made-up price in US dollars per million completion tokens."""
    latency_base_s: float
    """Seconds before the first token (time to first token, roughly)."""
    latency_per_token_s: float
    """Seconds per completion token."""
    latency_jitter: float
    """Sigma of the log-normal factor applied to the latency (seeded)."""
    base_error: float
    """Chance of a slip on an easy case."""
    cue_error: float
    """Extra chance of a slip per difficulty cue in the text (typos, negation, ...)."""
    free_form: float
    """Chance of free wording when the prompt neither lists labels nor shows examples."""
    format_error: float
    """Chance of wrapping a requested JSON object in a Markdown code fence."""
    negation: float
    """Chance of reading a negation ("not cancelling") correctly."""
    multilingual: float
    """Chance of understanding a non-English cue word."""
    rare_words: float
    """Chance of knowing a less common cue word or phrase."""
    injection_resistance: float
    """Chance of ignoring instructions planted in the data."""
    numbers: float
    """Chance of reading amounts, dates and currencies with their locale right, repairing
    scan damage, and cutting a QA answer down to the exact span."""
    careful_total: float
    """Chance of reading a document carefully: the grand total rather than the first amount
    labelled total, the issue date rather than the first date, the seller rather than the
    first line."""
    hallucination: float
    """Chance of answering from a near-miss sentence when the context lacks the answer."""

    @property
    def input_cost_per_token(self) -> float:
        """Dollars per prompt token (litellm's unit)."""
        return self.input_per_1m / 1e6

    @property
    def output_cost_per_token(self) -> float:
        """Dollars per completion token (litellm's unit)."""
        return self.output_per_1m / 1e6


SIM_PROFILES: dict[str, SimProfile] = {
    p.name: p
    for p in (
        SimProfile(
            "sim/large",
            2.50,
            10.00,
            latency_base_s=0.60,
            latency_per_token_s=0.008,
            latency_jitter=0.15,
            base_error=0.04,
            cue_error=0.055,
            free_form=0.30,
            format_error=0.0,
            negation=0.95,
            multilingual=0.97,
            rare_words=0.97,
            injection_resistance=0.92,
            numbers=0.93,
            careful_total=0.93,
            hallucination=0.12,
        ),
        SimProfile(
            "sim/small",
            0.40,
            1.60,
            latency_base_s=0.25,
            latency_per_token_s=0.004,
            latency_jitter=0.20,
            base_error=0.055,
            cue_error=0.08,
            free_form=0.27,
            format_error=0.03,
            negation=0.65,
            multilingual=0.75,
            rare_words=0.72,
            injection_resistance=0.55,
            numbers=0.72,
            careful_total=0.70,
            hallucination=0.35,
        ),
        SimProfile(
            "sim/fast",
            0.10,
            0.40,
            latency_base_s=0.09,
            latency_per_token_s=0.002,
            latency_jitter=0.25,
            base_error=0.07,
            cue_error=0.11,
            free_form=0.22,
            format_error=0.08,
            negation=0.30,
            multilingual=0.50,
            rare_words=0.45,
            injection_resistance=0.20,
            numbers=0.45,
            careful_total=0.40,
            hallucination=0.60,
        ),
        # the simulated LLM judge: lenient (it over-scores now and then, as real judges do),
        # prone to prefer the first of two close answers, and resistant to injected text
        SimProfile(
            "sim/judge",
            0.50,
            2.00,
            latency_base_s=0.30,
            latency_per_token_s=0.004,
            latency_jitter=0.15,
            base_error=0.05,
            cue_error=0.08,
            free_form=0.20,
            format_error=0.0,
            negation=0.80,
            multilingual=0.85,
            rare_words=0.85,
            injection_resistance=0.95,
            numbers=0.85,
            careful_total=0.80,
            hallucination=0.25,
        ),
    )
}


@dataclass(frozen=True)
class SimReply:
    """One simulated answer: its text, token usage and simulated latency."""

    text: str
    """The answer (truncated when ``max_tokens`` was reached)."""
    prompt_tokens: int
    """Estimated prompt tokens (about four characters per token plus per-message overhead)."""
    completion_tokens: int
    """Estimated completion tokens."""
    latency_s: float
    """Simulated seconds the call takes (before ``WORKBENCH_SIM_LATENCY_SCALE``)."""
    finish_reason: str
    """``"stop"``, or ``"length"`` when ``max_tokens`` cut the answer short."""


def is_simulated(model_id: str) -> bool:
    """True for the offline simulated model ids (``sim/...``), which are not real LLMs.

    Example:
        >>> is_simulated("sim/large"), is_simulated("openai/gpt-4o-mini")
        (True, False)
    """
    return model_id.startswith(f"{PROVIDER}/")


def profile_of(model: str) -> SimProfile:
    profile = SIM_PROFILES.get(model)
    if profile is None:
        raise ConfigError(
            f"unknown simulated model {model!r}",
            where=f"model {model!r}",
            fix=f"Use one of {', '.join(SIM_PROFILES)} (offline stand-ins, not real LLMs), "
            "or a real litellm model string such as 'openai/gpt-4o-mini'.",
        )
    return profile
