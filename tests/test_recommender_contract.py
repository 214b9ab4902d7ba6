"""One contract, every recommender: the checks of rec_utils.models.base, run over each
Recommender subclass the package defines.

The classes are discovered (every module of rec_utils is imported and the subclasses of
Recommender collected), and each must have an entry in CONTRACT below: small settings for a
quick fit and one bad hyper-parameter. A new model without an entry fails
test_every_recommender_is_in_the_table, so it cannot escape the contract.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from functools import lru_cache

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, clone

import rec_utils
from rec_utils._checks import NotFittedError
from rec_utils.data import deduplicate_interactions, generate_movielens_like
from rec_utils.models import PAD, Recommender


def _discover() -> dict[str, type]:
    """Every concrete Recommender subclass defined in rec_utils, by class name."""
    for info in pkgutil.walk_packages(rec_utils.__path__, "rec_utils."):
        importlib.import_module(info.name)
    found, todo = {}, list(Recommender.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        concrete = cls.score is not Recommender.score and not inspect.isabstract(cls)
        module = importlib.import_module(cls.__module__) if cls.__module__.startswith("rec_utils.") else None
        public = (module is not None and getattr(module, cls.__name__, None) is cls  # not a class made in a doctest
                  and not cls.__name__.startswith("_"))  # nor a private base such as _BiasedFactorModel
        if public and concrete:
            assert cls.__name__ not in found or found[cls.__name__] is cls, f"two recommenders named {cls.__name__}"
            found[cls.__name__] = cls
    return found


RECOMMENDERS = _discover()


def _blend_members():
    from rec_utils.models import EASE, PopularityRecommender

    return [(EASE(l2=10.0), 0.7), (PopularityRecommender(), 0.3)]


def _rating_members():
    from rec_utils.models import BiasBaseline, BiasedMF

    return [BiasBaseline(), BiasedMF(n_factors=2, n_epochs=2)]


# class name -> (small settings for a quick fit, {parameter: (bad value, error)} or None when
# the model has no hyper-parameter). Settings are built by functions so every test gets fresh members.
CONTRACT = {
    "PopularityRecommender": (dict, None),
    "ItemKNN": (lambda: {"n_neighbors": 5, "shrink": 1.0}, {"n_neighbors": (0, ValueError)}),
    "EASE": (lambda: {"l2": 10.0}, {"l2": ("500", TypeError)}),
    "ImplicitALS": (lambda: {"n_factors": 4, "n_epochs": 2, "seed": 1}, {"unobserved_weight": (1.5, ValueError)}),
    "ScoreBlend": (lambda: {"members": _blend_members()}, {"members": ([], ValueError)}),
    "BiasBaseline": (dict, {"n_epochs": (2.5, TypeError)}),
    "BiasedMF": (lambda: {"n_factors": 3, "n_epochs": 3, "seed": 1}, {"reg": (0.0, ValueError)}),
    "FunkSVD": (lambda: {"n_factors": 3, "n_epochs": 3, "seed": 1}, {"batch_size": (0, ValueError)}),
    "ItemKNNBaseline": (lambda: {"n_neighbors": 5, "n_epochs": 3}, {"shrink": (-1.0, ValueError)}),
    "RatingBlend": (lambda: {"models": _rating_members(), "seed": 1}, {"validation_size": (1.0, ValueError)}),
    "BPR": (lambda: {"n_factors": 4, "n_epochs": 3, "batch_size": 64, "seed": 1}, {"n_factors": (True, TypeError)}),
    "MultDAE": (lambda: {"hidden": 8, "epochs": 2, "batch_size": 16, "seed": 1}, {"dropout": (1.0, ValueError)}),
    "CFGAN": (lambda: {"generator_hidden": (8,), "discriminator_hidden": (4,), "epochs": 2, "batch_size": 16,
                       "seed": 1}, {"generator_hidden": ((), ValueError)}),
    "MarkovChainRecommender": (dict, None),
    "RecentPopularityRecommender": (lambda: {"window": 50}, {"window": ("50", TypeError)}),
}

NAMES = sorted(RECOMMENDERS)


def make(name: str, **changes) -> Recommender:
    settings, _ = CONTRACT[name]
    return RECOMMENDERS[name](**{**settings(), **changes})


@lru_cache(maxsize=1)
def data():
    """30 users x 40 items, plus a user who has seen all but 2 of the rated items."""
    ratings = generate_movielens_like(n_users=30, n_items=40, mean_ratings_per_user=20, seed=0).ratings
    items = np.unique(ratings["item_id"])
    greedy = pd.DataFrame({"user_id": ratings["user_id"].max() + 1, "item_id": items[:-2],
                           "rating": 3.0, "timestamp": ratings["timestamp"].max() + np.arange(len(items) - 2)})
    ratings = pd.concat([ratings, greedy.astype(ratings.dtypes.to_dict())], ignore_index=True)
    return ratings, int(greedy["user_id"].iloc[0]), items[-2:]


@lru_cache(maxsize=None)
def fitted(name: str) -> Recommender:
    ratings, _, _ = data()
    model = make(name)
    assert model.fit(ratings) is model, "fit must return self"
    return model


def _training_items(ratings) -> dict:
    return ratings.groupby("user_id")["item_id"].agg(set).to_dict()


# --------------------------------------------------------------------------- the table

def test_every_recommender_is_in_the_table():
    assert len(RECOMMENDERS) >= 15, f"discovery found too few recommenders: {sorted(RECOMMENDERS)}"
    missing = sorted(set(RECOMMENDERS) - set(CONTRACT))
    assert not missing, (f"recommenders without an entry in CONTRACT (tests/test_recommender_contract.py): {missing}; "
                         f"add small settings and a bad hyper-parameter for each")
    stale = sorted(set(CONTRACT) - set(RECOMMENDERS))
    assert not stale, f"CONTRACT names classes that no longer exist: {stale}"


# --------------------------------------------------------------------------- the contract

@pytest.mark.parametrize("name", NAMES)
def test_clone_and_get_params_round_trip(name):
    model = make(name)
    params = model.get_params(deep=False)
    init = type(model).__init__
    expected = set() if init is object.__init__ else set(inspect.signature(init).parameters) - {"self"}
    assert set(params) == expected
    copy = clone(model)
    assert type(copy) is type(model) and copy is not model
    _assert_same_settings(copy.get_params(deep=False), params)
    _assert_same_settings(type(model)(**params).get_params(deep=False), params)
    assert model.set_params(**params) is model


def _assert_same_settings(a, b):
    """Equal settings; estimators inside them (a blend's members) equal in type and settings."""
    if isinstance(b, BaseEstimator):
        assert type(a) is type(b)
        _assert_same_settings(a.get_params(deep=False), b.get_params(deep=False))
    elif isinstance(b, dict):
        assert a.keys() == b.keys()
        for key in b:
            _assert_same_settings(a[key], b[key])
    elif isinstance(b, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same_settings(x, y)
    else:
        assert a == b


@pytest.mark.parametrize("name", NAMES)
def test_fit_returns_self_and_score_has_one_row_per_requested_user(name):
    model = fitted(name)
    ratings, greedy, _ = data()
    users = [1, greedy, 1, 5]
    scores = np.asarray(model.score(users))
    assert scores.shape == (4, len(model.items_)) == (4, ratings["item_id"].nunique())
    assert np.isfinite(scores).all()
    np.testing.assert_array_equal(scores[0], scores[2])  # a user asked twice gets the same row
    for attribute in ("users_", "items_", "seen_"):
        assert hasattr(model, attribute)


@pytest.mark.parametrize("name", NAMES)
def test_recommend_never_returns_a_training_item_and_pads(name):
    model = fitted(name)
    ratings, greedy, left = data()
    seen = _training_items(ratings)
    users = np.unique(ratings["user_id"])
    lists = model.recommend(users, k=10)
    assert lists.shape == (len(users), 10)
    for user, row in zip(users, lists):
        items = [item for item in row.tolist() if item != PAD]
        assert not seen[user] & set(items), f"user {user} was recommended a training item"
        assert len(set(items)) == len(items) == min(10, len(model.items_) - len(seen[user]))
    padded = model.recommend([greedy], k=5)[0]
    assert sorted(padded[:2].tolist()) == sorted(left.tolist())  # the two unseen items, then PAD
    assert padded[2:].tolist() == [PAD] * 3


@pytest.mark.parametrize("name", NAMES)
def test_two_fits_with_the_same_seed_give_the_same_scores(name):
    ratings, greedy, _ = data()
    again = make(name).fit(ratings)
    users = [1, 2, greedy]
    np.testing.assert_array_equal(np.asarray(again.score(users)), np.asarray(fitted(name).score(users)))


@pytest.mark.parametrize("name", NAMES)
def test_duplicate_rows_give_the_model_of_the_deduplicated_frame(name):
    ratings, greedy, _ = data()
    # an earlier rating of 30% of the pairs, with another value: the latest one must win
    earlier = ratings.sample(frac=0.3, random_state=0).assign(
        rating=lambda r: (6 - r["rating"]).astype(ratings["rating"].dtype),
        timestamp=lambda r: r["timestamp"] - 10_000)
    with_duplicates = pd.concat([ratings, earlier], ignore_index=True).sample(frac=1.0, random_state=1)
    deduplicated = deduplicate_interactions(with_duplicates)
    assert len(deduplicated) == len(ratings)
    users = [1, 2, 3, greedy]
    np.testing.assert_allclose(np.asarray(make(name).fit(with_duplicates).score(users)),
                               np.asarray(make(name).fit(deduplicated).score(users)), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_bad_input_is_refused(name):
    ratings, _, _ = data()
    with pytest.raises(TypeError, match="DataFrame"):
        make(name).fit(ratings.to_numpy().tolist())
    with pytest.raises(ValueError, match="item_id"):
        make(name).fit(ratings.drop(columns="item_id"))
    with pytest.raises(ValueError, match="not in the index"):
        fitted(name).score([10_000])


@pytest.mark.parametrize("name", NAMES)
def test_a_bad_hyper_parameter_is_stored_and_refused_by_fit(name):
    _, bad = CONTRACT[name]
    if bad is None:
        assert make(name).get_params() == {}, f"{name} has hyper-parameters: give CONTRACT a bad one"
        return
    (parameter, (value, error)), = bad.items()
    model = make(name, **{parameter: value})  # no error here: the constructor stores what it is given
    assert model.get_params(deep=False)[parameter] is value
    with pytest.raises(error, match=parameter):
        model.fit(data()[0])
    assert not hasattr(model, "seen_"), "refused before anything was learned"


@pytest.mark.parametrize("name", NAMES)
def test_using_a_model_before_fit_raises_not_fitted_error(name):
    with pytest.raises(NotFittedError, match="not fitted"):
        make(name).score([1])
    with pytest.raises(NotFittedError, match="not fitted"):
        make(name).recommend([1], k=3)
