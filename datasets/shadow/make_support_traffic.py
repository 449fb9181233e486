"""Generate ``support_traffic.jsonl``: a SIMULATED production log for the triage task.

Requests are the support-triage golden set's messages (reworded with a few seeded prefixes and
suffixes), some with planted personal data (e-mail addresses, phone numbers, Luhn-valid test card
numbers) so that redaction can be tested. They are served by the SIMULATED incumbent
``sim/large`` with the demo's guided prompt, offline, through the workbench itself; tokens are
what the simulated call reported, latency is drawn (seeded) from the answer length plus
log-normal noise. Timestamps follow a daily cycle over five days.
Deterministic: the same seed writes the same file. Run from the repository root:

    python datasets/shadow/make_support_traffic.py

The planted values are listed in ``planted_pii.json`` (for the tests that check they never
leave the loader).
"""

from __future__ import annotations

import json
import os
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ["WORKBENCH_SIM_LATENCY_SCALE"] = "0"  # latencies are drawn below, seeded

import pandas as pd  # noqa: E402

import workbench as wb  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
N = 320
SEED = 20261101
EMAILS = ["maria.lopez@example.com", "j.smith+orders@example.org", "kenji.t@example.net",
          "ana_souza@example.com.br", "pat@example.co.uk"]
PHONES = ["+1 415-555-0142", "+44 20 7946 0321", "(030) 1234 5678", "415-555-0199",
          "+49 30 901820"]
CARDS = ["4111 1111 1111 1111", "5500-0000-0000-0004", "378282246310005",
         "6011 0009 9013 9424"]
PREFIX = ["", "", "", "Hi, ", "Hello team, ", "URGENT: ", "hey - "]
SUFFIX = ["", "", "", " Thanks.", " Please help.", " Any update?", " Cheers"]
PLANTS = [
    "You can reach me at {email}.", "My number is {phone}, call me back.",
    "I paid with card {card}, why was it declined?", "Contact: {email} / {phone}",
]


def main() -> None:
    """Write support_traffic.jsonl and planted_pii.json beside this script."""
    rng = random.Random(SEED)
    gs = wb.GoldenSet.load(ROOT / "datasets" / "support_triage" / "golden.jsonl")
    cases = gs.records()
    start = datetime(2026, 11, 2, tzinfo=UTC)
    rows, planted = [], {"email": set(), "phone": set(), "card": set()}
    for i in range(N):
        case = rng.choice(cases)
        message = rng.choice(PREFIX) + str(case["message"]) + rng.choice(SUFFIX)
        if rng.random() < 0.22:
            plant = rng.choice(PLANTS)
            values = {"email": rng.choice(EMAILS), "phone": rng.choice(PHONES),
                      "card": rng.choice(CARDS)}
            message += " " + plant.format(**values)
            for kind, value in values.items():
                if "{" + kind + "}" in plant:
                    planted[kind].add(value)
        day = i * 5 // N
        hour = min(23, max(0, int(rng.gauss(14, 4))))
        when = start + timedelta(days=day, hours=hour, minutes=rng.randrange(60),
                                 seconds=rng.randrange(60))
        rows.append({"id": f"req-{i + 1:04d}", "channel": case["channel"], "message": message,
                     "language": case["language"], "when": when.isoformat().replace("+00:00",
                                                                                     "Z")})
    traffic = wb.GoldenSet.from_df(pd.DataFrame([{k: r[k] for k in ("id", "channel", "message",
                                                                   "language")} for r in rows]),
                                   name="support_traffic", slices=["language"],
                                   routable=["language"])
    system = (ROOT / "examples" / "prompts" / "triage_guided_system.j2").read_text()
    user = (ROOT / "examples" / "prompts" / "triage_guided_user.j2").read_text()
    variant = wb.PromptVariant("production", system=system, user=user)
    served = wb.compare(traffic, ["sim/large"], [variant], [], progress=False, cache=False,
                        seed=SEED)
    if not served.complete:
        raise SystemExit(f"the simulated incumbent did not answer every request: "
                         f"{served.stop_reason}")
    results = served.results.set_index("case_id")
    out = []
    for r in rows:
        res = results.loc[r["id"]]
        msgs = variant.render(r)
        out.append({"request_id": r["id"], "timestamp": r["when"], "messages": msgs,
                    "served_model": "sim/large", "response": str(res["output"]),
                    "latency_s": round(0.35 + 0.012 * int(res["completion_tokens"])
                                       + rng.lognormvariate(-1.6, 0.6), 4),
                    "prompt_tokens": int(res["prompt_tokens"]),
                    "completion_tokens": int(res["completion_tokens"]),
                    "slices": {"language": r["language"], "channel": r["channel"]},
                    "feedback": rng.choice([None, None, None, "thumbs_up", "thumbs_down"])})
    out.sort(key=lambda x: x["timestamp"])
    (HERE / "support_traffic.jsonl").write_text(
        "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in out), encoding="utf-8")
    (HERE / "planted_pii.json").write_text(json.dumps(
        {k: sorted(v) for k, v in planted.items()}, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {len(out)} requests, planted {sum(len(v) for v in planted.values())} values")


if __name__ == "__main__":
    main()
