"""Published figures that notebooks set beside their own, each with its source, version and protocol.

A published number compares with ours only when the data set *and* the protocol are the
same, and even then the split is drawn by another library: the users' test items differ.
Notebooks show these tables next to their own, never as targets.
"""

from __future__ import annotations

import pandas as pd

MICROSOFT_RECOMMENDERS_SOURCE = (
    "Microsoft Recommenders, README 'Algorithm Comparison' table, as of release 1.1.1 (April 2023): "
    "github.com/recommenders-team/recommenders"
)
MICROSOFT_RECOMMENDERS_PROTOCOL = (
    "ML-100K, stratified 75/25 split (their splitter), top-10 over unseen items, every test item relevant, "
    "15 training epochs"
)

# (MAP, NDCG@10, Precision@10, Recall@10) as the table prints them.
_MICROSOFT_RECOMMENDERS_ML100K = {
    "ALS (Spark)": (0.004732, 0.044239, 0.048462, 0.017796),
    "BiVAE (Cornac)": (0.146126, 0.475077, 0.411771, 0.219145),
    "BPR (Cornac)": (0.132478, 0.441997, 0.388229, 0.212522),
    "FastAI embedding dot bias": (0.025503, 0.147866, 0.130329, 0.053824),
    "LightGCN": (0.088526, 0.419846, 0.379626, 0.144336),
    "NCF (NeuMF)": (0.107720, 0.396118, 0.347296, 0.180775),
    "SAR": (0.110591, 0.382461, 0.330753, 0.176385),
    "SVD (Surprise)": (0.012873, 0.095930, 0.091198, 0.032783),
}


def microsoft_recommenders_ml100k(models=None) -> pd.DataFrame:
    """Microsoft Recommenders' published ML-100K top-10 table, one row per model.

    Columns ``map``, ``ndcg@10``, ``precision@10`` and ``recall@10``; the source and the
    protocol are in the frame's ``attrs`` (``"source"``, ``"protocol"``). ``models`` picks
    and orders rows; an unknown name raises a ``KeyError`` that lists the known ones.

    >>> table = microsoft_recommenders_ml100k(["SAR", "BiVAE (Cornac)"])
    >>> table.index.tolist(), list(table.columns)
    (['SAR', 'BiVAE (Cornac)'], ['map', 'ndcg@10', 'precision@10', 'recall@10'])
    >>> "1.1.1" in table.attrs["source"]
    True
    """
    names = list(_MICROSOFT_RECOMMENDERS_ML100K) if models is None else list(models)
    unknown = [name for name in names if name not in _MICROSOFT_RECOMMENDERS_ML100K]
    if unknown:
        raise KeyError(f"not in the published table: {unknown}; it has {sorted(_MICROSOFT_RECOMMENDERS_ML100K)}")
    table = pd.DataFrame([_MICROSOFT_RECOMMENDERS_ML100K[name] for name in names], index=pd.Index(names, name="model"),
                         columns=["map", "ndcg@10", "precision@10", "recall@10"])
    table.attrs = {"source": MICROSOFT_RECOMMENDERS_SOURCE, "protocol": MICROSOFT_RECOMMENDERS_PROTOCOL}
    return table
