"""Speed of the ranking and beyond-accuracy metrics at MovieLens-1M scale.

Usage: ``python benchmarks/bench_metrics.py [--repeat 5]``. Scores are random, with about
4% of each user's items relevant (ML-1M has 1,000,209 ratings over 6,040 x 3,706);
what is timed is each metric's full call, input validation included.
Results are printed and written to ``benchmarks/METRICS_BENCHMARK.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np

from rec_utils.evaluation import metrics

N_USERS, N_ITEMS, K = 6040, 3706, 10
OUT = Path(__file__).resolve().parent / "METRICS_BENCHMARK.md"


def _time(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    y_score = rng.random((N_USERS, N_ITEMS)).astype(np.float32)
    y_true = (rng.random((N_USERS, N_ITEMS)) < 0.045).astype(np.float32)
    recommended = metrics.top_k(y_score, K)
    features = (rng.random((N_ITEMS, 18)) < 0.15).astype(np.float32)
    popularity = rng.uniform(1 / N_USERS, 0.5, N_ITEMS)
    cases = {f"top_k (k={K})": lambda: metrics.top_k(y_score, K)}
    for name in metrics.RANKING_METRICS:
        cases[f"{name}_at_k"] = lambda name=name: getattr(metrics, f"{name}_at_k")(y_true, y_score, K)
    cases["ranking_metrics (all six, one top-k)"] = lambda: metrics.ranking_metrics(y_true, y_score, K)
    cases["catalog_coverage"] = lambda: metrics.catalog_coverage(recommended, N_ITEMS)
    cases["intra_list_diversity"] = lambda: metrics.intra_list_diversity(recommended, features)
    cases["novelty"] = lambda: metrics.novelty(recommended, popularity)
    cases["personalization"] = lambda: metrics.personalization(recommended)
    n = 1_000_209
    a, b = rng.uniform(1, 5, n), rng.uniform(1, 5, n)
    labels, probs = (rng.random(n) < 0.5).astype(int), rng.random(n)
    cases["rmse (1M ratings)"] = lambda: metrics.rmse(a, b)
    cases["roc_auc (1M predictions)"] = lambda: metrics.roc_auc(labels, probs)
    cases["log_loss (1M predictions)"] = lambda: metrics.log_loss(labels, probs)
    rows = []
    for name, fn in cases.items():
        seconds = _time(fn, args.repeat)
        rows.append((name, seconds))
        print(f"{name:45s} {seconds * 1000:9.1f} ms")
    lines = [
        "# Metric speed at MovieLens-1M scale",
        "",
        f"Written by `benchmarks/bench_metrics.py`: {N_USERS:,} users x {N_ITEMS:,} items, k = {K}, "
        f"best of {args.repeat} runs, on {os.cpu_count()} CPUs ({platform.machine()}), "
        f"NumPy {np.__version__}.",
        "",
        "| metric | time (ms) |",
        "|---|---|",
        *[f"| {name} | {seconds * 1000:.1f} |" for name, seconds in rows],
    ]
    OUT.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
