"""SIMULATED models for offline demos and tests: ``sim/large``, ``sim/small``, ``sim/fast``.

These are **not real LLMs** and nothing here calls one. They are small deterministic programs
(keyword scoring, regular expressions, sentence overlap) that litellm routes to as a custom
provider named ``sim``, so they travel exactly the same call path, cache, budget and pricing
code as ``openai/...`` or ``anthropic/...`` models. Their prices and latencies are invented to
differ the way a large, a small and a fast model differ; every answer they give is simulated.
``sim/judge`` is the simulated LLM judge.

What they read (DESIGN.md, Settled 11): only the rendered prompt, i.e. the chat messages
(system text, few-shot user/assistant turns and the last user message). They never open a
dataset file and never see ``expected`` or a slice column, so their mistakes come from what is
in the text: length, typos, negation ("I do NOT want to cancel"), mixed languages, several
intents, sarcasm, injected instructions, ambiguous dates, subtotals next to totals, and from
the model's profile (``sim/fast`` makes the most). Temperature adds seeded noise; the same
model, messages, seed and temperature always give the same answer.

They follow the prompt the way real models roughly do, so prompt variants change scores in
explainable ways:

- a prompt that lists the allowed labels is answered with exactly one of them;
- a prompt that asks for JSON (or few-shot answers that are JSON) gets a JSON object;
- few-shot turns teach the label vocabulary and format and reduce mistakes;
- a terse prompt without the label list gets freer wording more often ("Billing issue"),
  which an exact label scorer counts as wrong;
- ``max_tokens`` below the answer's length truncates it with ``finish_reason="length"``.

One module per task:

- ``_profiles``: the invented price, latency and skill of each model, and ``SimReply``;
- ``_prompt``: seeded dice, the parsed chat prompt, fields, token estimates;
- ``_tasks``: which task a prompt asks for, and the generic reply;
- ``_triage`` (vocabulary in ``_triage_lexicon``): support-ticket intent and priority;
- ``_extraction``: invoice vendor, date, total and currency as JSON;
- ``_qa``: grounded question answering (a short span from the context, or a refusal);
- ``_judges``: the simulated judge, reading the judge prompt format that
  ``workbench.scorers`` writes (both use ``workbench.models._judge_format``);
- ``_simulate``: :func:`simulate`; ``_provider``: the litellm provider and its prices.

Example:
    >>> from workbench.models.sim import simulate
    >>> simulate("sim/fast", [{"role": "user", "content": "Hello"}]).text.startswith(
    ...     ("Here is", "Sure.", "Understood."))
    True
"""

from ._profiles import SIM_PROFILES, SimProfile, SimReply, is_simulated
from ._provider import LATENCY_SCALE_ENV, register_sim_provider
from ._simulate import simulate

__all__ = [
    "LATENCY_SCALE_ENV",
    "SIM_PROFILES",
    "SimProfile",
    "SimReply",
    "is_simulated",
    "register_sim_provider",
    "simulate",
]
