"""Recommenders, all on one contract (:class:`Recommender`, scikit-learn's estimator conventions).

* classical models, NumPy/SciPy only: :class:`PopularityRecommender`, :class:`ItemKNN`,
  :class:`EASE`, :class:`ImplicitALS`, :class:`ScoreBlend`, :class:`BiasBaseline`,
  :class:`BiasedMF`, :class:`FunkSVD`, :class:`ItemKNNBaseline`, :class:`RatingBlend`
  (notebooks 04 and 05) and :class:`BPR` (notebook 07);
* graph collaborative filtering, NumPy/SciPy only: :class:`LightGCN` (notebook 07,
  :mod:`~rec_utils.models.graph`);
* two-tower retrieval with in-batch negatives and the log-Q correction: :class:`TwoTower`
  (notebook 11, :mod:`~rec_utils.models.retrieval`, Keras);
* feature-interaction rankers for like prediction, Keras builders over a :class:`FeatureSpec`:
  Wide & Deep, DeepFM, DCN-v2 (notebook 07, :mod:`~rec_utils.models.rankers`);
* sequential baselines: :class:`MarkovChainRecommender`, :class:`RecentPopularityRecommender`
  (notebook 08);
* Keras models, in submodules that import TensorFlow only when a model is built:
  :mod:`~rec_utils.models.autoencoders` (Mult-DAE, notebook 04), :mod:`~rec_utils.models.ncf`
  (GMF, MLP, NeuMF, notebook 06), :mod:`~rec_utils.models.gan` (CFGAN, notebook 07),
  :mod:`~rec_utils.models.sequential` (GRU4Rec, notebook 08), :mod:`~rec_utils.models.sasrec`
  (SASRec, notebook 10), :mod:`~rec_utils.models.bert4rec` (BERT4Rec, notebook 10).

``from rec_utils.models import EASE`` is the short path; ``MultDAE``, ``CFGAN``, ``LightGCN``
and ``TwoTower`` are importable here too, loaded on first use, and still do not import
TensorFlow until they are fitted.
"""

from .base import PAD, Recommender
from .bpr import BPR
from .classical import (
    EASE, BiasBaseline, BiasedMF, FunkSVD, ImplicitALS, ItemKNN, ItemKNNBaseline, PopularityRecommender,
    RatingBlend, ScoreBlend, ease_weights, item_gram,
)

__all__ = [
    "BPR", "CFGAN", "EASE", "FeatureSpec", "PAD", "BiasBaseline", "BiasedMF", "FunkSVD", "ImplicitALS", "ItemKNN",
    "ItemKNNBaseline", "LightGCN", "MarkovChainRecommender", "MultDAE", "PopularityRecommender", "RatingBlend",
    "Recommender", "RecentPopularityRecommender", "ScoreBlend", "TwoTower", "ease_weights", "item_gram",
]

_LAZY = {"FeatureSpec": "rankers", "LightGCN": "graph", "MultDAE": "autoencoders", "CFGAN": "gan",
         "MarkovChainRecommender": "sequential", "RecentPopularityRecommender": "sequential", "TwoTower": "retrieval"}


def __getattr__(name):
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'rec_utils.models' has no attribute {name!r}")
