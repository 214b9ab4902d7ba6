"""The contract every recommender of the course follows, on scikit-learn's ``BaseEstimator``.

A recommender

* takes its hyper-parameters as constructor arguments and stores them **as given** (no
  checks, no conversions in ``__init__``), so ``get_params``, ``set_params`` and
  ``sklearn.base.clone`` work and a grid search can set them;
* checks them in ``fit`` (:meth:`Recommender.validate_params`), raising ``TypeError`` for a
  wrong type and ``ValueError`` for a bad value;
* learns from an interactions frame in ``fit(ratings, users=None, items=None)`` and returns
  ``self``; a (user, item) pair that occurs more than once counts once, with its latest
  rating (:func:`~rec_utils.data.deduplicate_interactions`); pass
  ``items=IdIndex(all_item_ids)`` so that items absent from training can still be scored;
* keeps what it learned in attributes ending in ``_``: ``users_`` and ``items_``
  (:class:`~rec_utils.data.IdIndex`) and ``seen_``, the binary users x items training matrix;
* scores every item for given users with ``score(user_ids)`` (users x items, larger is
  better; columns follow ``items_.ids``);
* recommends with ``recommend(user_ids, k)``: each user's top-k item ids, best first, never
  an item the user saw in training; when fewer than ``k`` unseen items remain, the list is
  padded with :data:`PAD`;
* raises :class:`~sklearn.exceptions.NotFittedError` when used before ``fit``.

Writing a new recommender takes three public pieces of this class: :meth:`prepare` at the
start of ``fit``, :meth:`user_positions` at the start of ``score``, and, when the model has
hyper-parameters, :meth:`validate_params`::

    from rec_utils._checks import check_number
    from rec_utils.models import Recommender

    class ShrunkPopularity(Recommender):
        def __init__(self, shrink=10.0):
            self.shrink = shrink                      # stored as given

        def validate_params(self):
            check_number("shrink", self.shrink, low=0)

        def fit(self, ratings, users=None, items=None):
            seen = self.prepare(ratings, users, items)   # checks, deduplicates, sets users_/items_/seen_
            counts = np.asarray(seen.sum(axis=0)).ravel()
            self.popularity_ = counts / (counts.sum() + self.shrink)
            return self

        def score(self, user_ids):
            rows = self.user_positions(user_ids)        # raises NotFittedError before fit
            return np.tile(self.popularity_, (len(rows), 1))

Notebook 04 builds one this way; ``tests/test_recommender_contract.py`` checks every
recommender of the package against this contract.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator

from .._checks import check_fitted, positive_int
from ..data.interactions import IdIndex, check_interactions, deduplicate_interactions, interaction_matrix
from ..data.schema import ITEM, USER
from ..evaluation.metrics import top_k

__all__ = ["Recommender", "PAD"]

PAD = -1
"""The item id that fills a recommendation list when fewer than ``k`` unseen items remain
(``None`` when the item ids are not integers)."""


class Recommender(BaseEstimator):
    """Base class of the course's recommenders; see the module's documentation for the contract.

    Examples
    --------
    The recommender of the module's documentation, cloned, fitted and asked for more items
    than some users have left:

    >>> import pandas as pd
    >>> from sklearn.base import clone
    >>> from rec_utils._checks import check_number
    >>> class ShrunkPopularity(Recommender):
    ...     def __init__(self, shrink=10.0):
    ...         self.shrink = shrink
    ...     def validate_params(self):
    ...         check_number("shrink", self.shrink, low=0)
    ...     def fit(self, ratings, users=None, items=None):
    ...         seen = self.prepare(ratings, users, items)
    ...         counts = np.asarray(seen.sum(axis=0)).ravel()
    ...         self.popularity_ = counts / (counts.sum() + self.shrink)
    ...         return self
    ...     def score(self, user_ids):
    ...         rows = self.user_positions(user_ids)
    ...         return np.tile(self.popularity_, (len(rows), 1))
    >>> r = pd.DataFrame({"user_id": [1, 1, 2], "item_id": [10, 20, 10]})
    >>> model = clone(ShrunkPopularity(shrink=1.0)).fit(r)
    >>> model.recommend([1, 2], k=2).tolist()  # user 1 has seen every item: PAD only
    [[-1, -1], [20, -1]]
    >>> ShrunkPopularity(shrink=-1).fit(r)  # stored as given, refused by fit
    Traceback (most recent call last):
    ...
    ValueError: shrink must be a number >= 0, got -1
    """

    def validate_params(self) -> None:
        """Check the hyper-parameters (called by :meth:`prepare`, so at the start of ``fit``).

        The base class has none; a subclass with hyper-parameters overrides this.
        """

    def prepare(self, ratings: pd.DataFrame, users: IdIndex | None = None, items: IdIndex | None = None,
                value: str | None = None, columns=()) -> sp.csr_matrix:
        """The start of every ``fit``: check the inputs, apply the duplicate rule, index the ids.

        Checks the hyper-parameters (:meth:`validate_params`), then that ``ratings`` is a
        DataFrame (``TypeError`` otherwise) with ``user_id``, ``item_id``, ``value`` and the
        other ``columns`` the model needs (e.g. ``("timestamp",)``), without missing values
        (``ValueError`` otherwise). Sets ``users_``, ``items_`` (given indexes, or the ids in
        ``ratings``) and ``seen_`` (binary users x items, float32) and returns ``seen_`` — or,
        with ``value`` (e.g. ``"rating"``), the users x items matrix of that column.
        A model that reads more of ``ratings`` than the matrix (timestamps, say) reads
        ``deduplicate_interactions(ratings)``, so the duplicate rule holds there too.
        """
        self.validate_params()
        wanted = (USER, ITEM) + ((value,) if value is not None else ()) + tuple(columns)
        check_interactions(ratings, tuple(dict.fromkeys(wanted)))
        for name, index in (("users", users), ("items", items)):
            if index is not None and not isinstance(index, IdIndex):
                raise TypeError(f"{name} must be an IdIndex (or None), got {type(index).__name__}")
        ratings = deduplicate_interactions(ratings)
        self.users_ = users if users is not None else IdIndex(ratings[USER])
        self.items_ = items if items is not None else IdIndex(ratings[ITEM])
        self.seen_ = interaction_matrix(ratings, self.users_, self.items_)
        return interaction_matrix(ratings, self.users_, self.items_, value=value) if value else self.seen_

    def check_fitted(self) -> None:
        """Raise :class:`~sklearn.exceptions.NotFittedError` unless ``fit`` has run."""
        check_fitted(self, "seen_")

    def user_positions(self, user_ids) -> np.ndarray:
        """Row positions of ``user_ids`` in ``users_`` (a ``ValueError`` names unknown users)."""
        self.check_fitted()
        return self.users_.positions(np.atleast_1d(np.asarray(user_ids)))

    def score(self, user_ids) -> np.ndarray:
        """Scores of every item (columns follow ``items_.ids``) for each user; larger is better."""
        raise NotImplementedError(f"{type(self).__name__} must implement score(user_ids)")

    def recommend(self, user_ids, k: int = 10, exclude_train: bool = True) -> np.ndarray:
        """Item ids of each user's top-k, best first.

        With ``exclude_train`` (the default) an item the user saw in training is never
        returned; a user with fewer than ``k`` unseen items gets a list padded with
        :data:`PAD`. Ties are broken by item position, so the lists are deterministic.
        """
        return self.top_items(self.score(user_ids), self.user_positions(user_ids), k, exclude_train)

    def top_items(self, scores, rows, k: int = 10, exclude_train: bool = True) -> np.ndarray:
        """The top-k item ids of score rows belonging to the users at ``rows`` (see :meth:`recommend`)."""
        k = positive_int("k", k)
        scores = np.array(scores, dtype=np.float64)
        if scores.ndim != 2 or scores.shape != (len(rows), len(self.items_)):
            raise ValueError(f"scores must be len(rows) x n_items = {(len(rows), len(self.items_))}, got {scores.shape}")
        if exclude_train:
            scores[self.seen_[rows].toarray() != 0] = -np.inf
        idx = top_k(scores, min(k, scores.shape[1]))
        chosen = np.take_along_axis(scores, idx, axis=1)
        ids = self.items_.ids
        integer = np.issubdtype(ids.dtype, np.integer)
        out = np.full((len(rows), k), PAD if integer else None, dtype=np.int64 if integer else object)
        out[:, :idx.shape[1]] = np.where(np.isneginf(chosen), out[:, :idx.shape[1]], ids[idx])
        return out
