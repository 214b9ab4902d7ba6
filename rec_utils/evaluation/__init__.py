"""Evaluation in one place: metrics on arrays, protocols over fitted models or score matrices,
and the uncertainty of a comparison.

* :mod:`~rec_utils.evaluation.metrics` — rating, classification, ranking and beyond-accuracy
  metrics on arrays;
* :mod:`~rec_utils.evaluation.protocols` — full ranking over unseen items (the leaderboard,
  and next-item prediction after a leave-last-out split) and sampled candidates;
* :mod:`~rec_utils.evaluation.compare` — confidence intervals and paired comparisons over users;
* :mod:`~rec_utils.evaluation.published` — published figures to set beside ours, with source,
  version and protocol.

Results are spelled ``"<metric>@<k>"`` everywhere (``"ndcg@10"``, ``"hit_rate@10"``).
"""

from . import metrics
from .compare import leaderboard, mean_ci, paired_difference
from .metrics import RANKING_METRICS, exclude_seen, ranking_metrics, top_k
from .protocols import (
    NEXT_ITEM_METRICS, TOP_K_METRICS, candidate_scores, evaluate_candidates, evaluate_model, evaluate_scores,
    relevance_matrix, result_key,
)

__all__ = [
    "NEXT_ITEM_METRICS", "RANKING_METRICS", "TOP_K_METRICS", "candidate_scores", "evaluate_candidates",
    "evaluate_model", "evaluate_scores", "exclude_seen", "leaderboard", "mean_ci", "metrics", "paired_difference",
    "ranking_metrics", "relevance_matrix", "result_key", "top_k",
]
