"""Recommenders, all on one contract (:class:`Recommender`, scikit-learn's estimator conventions).

* classical models, NumPy/SciPy only: :class:`PopularityRecommender`, :class:`ItemKNN`,
  :class:`EASE`, :class:`ImplicitALS`, :class:`ScoreBlend`, :class:`BiasBaseline`,
  :class:`BiasedMF`, :class:`FunkSVD`, :class:`ItemKNNBaseline`, :class:`RatingBlend`
  (notebooks 04 and 05) and :class:`BPR` (notebook 07);
* sequential baselines: :class:`MarkovChainRecommender`, :class:`RecentPopularityRecommender`
  (notebook 08);
* Keras models, in submodules that import TensorFlow only when a model is built:
  :mod:`~rec_utils.models.autoencoders` (Mult-DAE, notebook 04), :mod:`~rec_utils.models.ncf`
  (GMF, MLP, NeuMF, notebook 06), :mod:`~rec_utils.models.gan` (CFGAN, notebook 07),
  :mod:`~rec_utils.models.sequential` (GRU4Rec, notebook 08), :mod:`~rec_utils.models.sasrec`
  (SASRec, notebook 10).

``from rec_utils.models import EASE`` is the short path; ``MultDAE`` and ``CFGAN`` are
importable here too, and still do not import TensorFlow until they are fitted.
"""

from .base import PAD, Recommender
from .bpr import BPR
from .classical import (
    EASE, BiasBaseline, BiasedMF, FunkSVD, ImplicitALS, ItemKNN, ItemKNNBaseline, PopularityRecommender,
    RatingBlend, ScoreBlend, ease_weights, item_gram,
)

__all__ = [
    "BPR", "CFGAN", "EASE", "PAD", "BiasBaseline", "BiasedMF", "FunkSVD", "ImplicitALS", "ItemKNN", "ItemKNNBaseline",
    "MarkovChainRecommender", "MultDAE", "PopularityRecommender", "RatingBlend", "Recommender",
    "RecentPopularityRecommender", "ScoreBlend", "ease_weights", "item_gram",
]

_LAZY = {"MultDAE": "autoencoders", "CFGAN": "gan", "MarkovChainRecommender": "sequential",
         "RecentPopularityRecommender": "sequential"}


def __getattr__(name):
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'rec_utils.models' has no attribute {name!r}")
