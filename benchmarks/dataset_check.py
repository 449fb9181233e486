"""``workbench dataset check`` on large synthetic golden sets (issue #19: 100k rows in < 60 s).

Writes synthetic support-ticket golden sets (default 20,000 and 100,000 rows) to a temporary
folder, with planted copies: exact copies, normalized copies (case and punctuation changed) and
near copies (a typo, a changed word), then times ``GoldenSet.load`` and ``GoldenSet.check`` on
each, over ``--rounds`` rounds (medians). Prints, per size::

    rows=100000 load_s=... check_s=... total_s=... planted_near=... expected=... found=...
    recall=... findings=...
    target_total_s=60 within_target=True
    reference_rows=2000 reference_near_s=... near_s=... ratio_near_vs_reference=...

``expected`` counts the planted near copies whose similarity (the least TF-IDF cosine over the
input columns, computed here with scikit-learn's ``TfidfVectorizer`` as a reference) is at or
above the threshold; ``recall`` is the share of those the check reports (a copy's pair is
reported against the first row with the same text, and counts as found there).

The reference is the near-duplicate search before issue #19 (every row against every row, in
blocks of sparse TF-IDF products), timed on ``--reference-rows`` rows (it grows with the square
of the rows: 95 s at 20,000) against the current search on the same rows, alternating, over
``--rounds`` rounds. Usage:
``python benchmarks/dataset_check.py [--rows 20000 100000] [--rounds 3] [--reference-rows 2000]``.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TARGET_S = 60.0

_OPENERS = ["Hi,", "Hello team,", "Hey", "Good morning,", "Dear support,", "", "Urgent:",
            "Quick question:", "Hi there,", "Sorry to bother you,"]
_PROBLEMS = [
    "I was charged twice for my {product} subscription",
    "my order #{order} of the {product} has not arrived",
    "I cannot log in to my account since the {product} update",
    "the {product} app crashes when I open the {feature} screen",
    "I would like a refund for the {product} I bought on {day}",
    "how do I change the {feature} settings on the {product}",
    "please cancel my {product} plan before the next renewal",
    "someone used my card {order} to buy a {product}",
    "the {product} battery drains in {hours} hours",
    "where can I download the invoice for order #{order}",
]
_DETAILS = ["It happened on {day}.", "My account id is {order}.", "I tried twice already.",
            "Support chat did not help.", "This is the third time this month.",
            "I need this fixed before {day}.", "The error code was E{hours}{hours}.", "",
            "Thanks for any help with the {feature}.", "My colleague has the same problem."]
_WORDS = ("alpha amber apex arc atlas aurora beacon birch bolt breeze cedar cobalt comet coral "
          "crest delta drift echo ember falcon fern flint forge frost garnet glacier harbor hazel "
          "horizon indigo iris jade juniper kestrel lark lotus lumen maple marble meadow mesa "
          "nova oak onyx orbit pearl pine prism quartz raven reef ridge river sage sierra slate "
          "sol spruce stone summit terra thistle tide timber topaz trail vale vertex willow zephyr"
          ).split()
_FEATURES = ["billing", "camera", "sync", "backup", "export", "privacy", "notification",
             "payment", "profile", "sharing"]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_INTENTS = ["billing", "shipping", "account_access", "technical_issue", "refund_request",
            "product_question", "cancellation", "security_fraud"]


def _message(rng: random.Random) -> str:
    product = f"{rng.choice(_WORDS).title()} {rng.choice(_WORDS).title()} {rng.randint(2, 99)}"
    fill = {"product": product, "order": rng.randint(10_000, 9_999_999),
            "feature": rng.choice(_FEATURES), "day": rng.choice(_DAYS),
            "hours": rng.randint(1, 48)}
    parts = [rng.choice(_OPENERS), rng.choice(_PROBLEMS).format(**fill) + ".",
             rng.choice(_DETAILS).format(**fill), rng.choice(_DETAILS).format(**fill)]
    return " ".join(p for p in parts if p)


def _near_copy(text: str, rng: random.Random) -> str:
    """One small edit a person would make: a typo, a dropped or swapped word."""
    words = text.split()
    kind = rng.randrange(3)
    if kind == 0:  # typo: swap two adjacent letters inside a long word
        long = [i for i, w in enumerate(words) if len(w) > 5]
        i = rng.choice(long) if long else 0
        w = words[i]
        j = rng.randrange(1, max(2, len(w) - 2))
        words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:] if len(w) > 3 else w + "s"
    elif kind == 1 and len(words) > 12:  # drop a short word
        short = [i for i, w in enumerate(words) if len(w) <= 3] or [len(words) - 1]
        del words[rng.choice(short)]
    else:  # add a word at the end
        words.append(rng.choice(["please", "thanks", "asap", "again"]))
    return " ".join(words)


def synthetic_rows(n: int, seed: int = 0) -> tuple[list[dict[str, Any]], set[tuple[str, str]]]:
    """``n`` support-ticket rows and the (original id, copy id) pairs planted as near copies.

    About 1% of rows are exact copies, 1% normalized copies and 2% near copies of earlier rows.
    """
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    planted: set[tuple[str, str]] = set()
    for i in range(n):
        case_id = f"syn-{i:06d}"
        roll = rng.random()
        channel = rng.choice(["email", "chat", "web_form", "social"])
        if rows and roll < 0.04:
            src = rng.choice(rows)
            channel = src["channel"]
            if roll < 0.01:
                message = src["message"]
            elif roll < 0.02:
                message = src["message"].upper().replace(".", "!")
            else:
                message = _near_copy(src["message"], rng)
                planted.add((src["id"], case_id))
        else:
            message = _message(rng)
        intent = rng.choice(_INTENTS)
        rows.append({"id": case_id, "channel": channel, "message": message,
                     "expected": {"intent": intent}, "intent": intent})
    return rows, planted


def write_set(rows: list[dict[str, Any]], directory: Path, stem: str) -> Path:
    """Write rows as JSONL plus a manifest declaring the slice."""
    path = directory / f"{stem}.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row) + "\n")
    (directory / f"{stem}.yaml").write_text(f"name: {stem}\nslices: [intent]\n")
    return path


def expected_pairs(rows: list[dict[str, Any]], planted: set[tuple[str, str]],
                   threshold: float) -> set[tuple[str, str]]:
    """Planted pairs whose every input column has TF-IDF cosine ≥ threshold (the reference)."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    from workbench.datasets import normalize_for_matching

    index = {row["id"]: i for i, row in enumerate(rows)}
    pairs = sorted(planted)
    left = np.array([index[a] for a, _ in pairs])
    right = np.array([index[b] for _, b in pairs])
    sims = np.ones(len(pairs))
    for column in ("channel", "message"):
        texts = [normalize_for_matching(str(row[column])) for row in rows]
        matrix = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5),
                                 sublinear_tf=True).fit_transform(texts).tocsr()
        cos = np.asarray(matrix[left].multiply(matrix[right]).sum(axis=1)).ravel()
        sims = np.minimum(sims, cos)
    return {pair for pair, sim in zip(pairs, sims, strict=True) if sim >= threshold - 1e-9}


def _owners(rows: list[dict[str, Any]]) -> dict[str, str]:
    """Each row's first row with the same normalized inputs (copies report against it)."""
    from workbench.datasets import normalize_for_matching

    first: dict[tuple[str, str], str] = {}
    return {row["id"]: first.setdefault((normalize_for_matching(row["channel"]),
                                         normalize_for_matching(row["message"])), row["id"])
            for row in rows}


def _reported(a: str, b: str, found: set[tuple[str, str]], owner: dict[str, str]) -> bool:
    candidates = {(a, b), (owner[a], owner[b])}
    return any(pair in found or pair[::-1] in found for pair in candidates)


def measure(n: int, rounds: int, directory: Path, progress: bool) -> dict[str, Any]:
    """Load and check a synthetic set of ``n`` rows ``rounds`` times; medians and recall."""
    from workbench.datasets import GoldenSet

    rows, planted = synthetic_rows(n)
    path = write_set(rows, directory, f"synthetic_{n}")
    loads, checks = [], []
    found: set[tuple[str, str]] = set()
    for _ in range(rounds):
        start = time.perf_counter()
        gs = GoldenSet.load(path)
        loads.append(time.perf_counter() - start)
        start = time.perf_counter()
        report = gs.check(progress=progress)
        checks.append(time.perf_counter() - start)
        dupes = report.findings[report.findings["check"] == "duplicate"]
        found = {(r.id, r.other_id) for r in dupes.itertuples()}
    load_s, check_s = statistics.median(loads), statistics.median(checks)
    expected = expected_pairs(rows, planted, 0.9)
    owner = _owners(rows)
    hit = sum(1 for a, b in expected if _reported(a, b, found, owner))
    return {"rows": n, "load_s": round(load_s, 2), "check_s": round(check_s, 2),
            "total_s": round(load_s + check_s, 2), "planted_near": len(planted),
            "expected": len(expected), "found": hit,
            "recall": round(hit / len(expected), 4) if expected else 1.0,
            "findings": len(found)}


def reference_near_pairs(left: list[list[str]], threshold: float) -> int:
    """The quadratic search of workbench before issue #19 (verbatim, within one set)."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    matrices = []
    for column in left:
        if not any(t.strip() for t in column):
            continue
        vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
        matrix = vectorizer.fit_transform(column)
        matrices.append((matrix, matrix))
    a, b = matrices[0]
    rows: list[int] = []
    cols: list[int] = []
    for start in range(0, a.shape[0], 1000):
        block = (a[start : start + 1000] @ b.T).tocoo()
        keep = block.data >= threshold - 1e-9
        rows.extend((block.row[keep] + start).tolist())
        cols.extend(block.col[keep].tolist())
    i = np.asarray(rows, dtype=int)
    j = np.asarray(cols, dtype=int)
    upper = i < j
    i, j = i[upper], j[upper]
    sims = np.ones(len(i))
    for a, b in matrices:
        if len(i):
            sims = np.minimum(sims, np.asarray(a[i].multiply(b[j]).sum(axis=1)).ravel())
    return int((sims >= threshold - 1e-9).sum())


def compare_reference(n: int, rounds: int) -> dict[str, Any]:
    """Time the old and the current near-duplicate search on the same ``n`` rows."""
    from workbench.datasets import normalize_for_matching
    from workbench.datasets._check import _near_pairs

    rows, _ = synthetic_rows(n, seed=1)
    columns = [[normalize_for_matching(r[c]) for r in rows] for c in ("channel", "message")]
    old, new = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        reference_near_pairs(columns, 0.9)
        old.append(time.perf_counter() - start)
        start = time.perf_counter()
        _near_pairs(columns, None, 0.9)
        new.append(time.perf_counter() - start)
    old_s, new_s = statistics.median(old), statistics.median(new)
    return {"reference_rows": n, "reference_near_s": round(old_s, 2),
            "near_s": round(new_s, 2), "ratio_near_vs_reference": round(new_s / old_s, 4)}


def main() -> None:
    """Time ``dataset check`` at each size and print ``name=value`` lines."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--reference-rows", type=int, default=2000,
                        help="rows for the old-versus-new comparison (0 skips it)")
    parser.add_argument("--progress", action="store_true", help="show the check's progress bar")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wb-check-bench-") as tmp:
        worst = 0.0
        for n in args.rows:
            result = measure(n, args.rounds, Path(tmp), args.progress)
            worst = max(worst, result["total_s"]) if n >= 100_000 else worst
            print(" ".join(f"{k}={v}" for k, v in result.items()), flush=True)
        print(f"target_total_s={TARGET_S:.0f} rounds={args.rounds} "
              f"within_target={worst < TARGET_S}")
        if args.reference_rows:
            result = compare_reference(args.reference_rows, args.rounds)
            print(" ".join(f"{k}={v}" for k, v in result.items()), flush=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
