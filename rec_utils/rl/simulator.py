"""A user simulator for sequential recommendation, as a ``gymnasium`` environment.

Taught in ``notebooks/10_reinforcement_learning.ipynb``.

Recommendation is a sequential decision problem (序贯决策问题): each recommendation changes
the user who receives the next one. :class:`RecommendationEnv` simulates one user session
at a time over a small catalogue. Its ground truth is a table of *like probabilities*
(how likely each user is to enjoy each item, e.g. from
:class:`rec_utils.data.synthetic.PreferenceModel`) and each item's *appeal* (how strongly it
draws clicks whether or not the user will like it, e.g. from its popularity):

* the user clicks item ``i`` with probability
  ``((1 - appeal_weight) * like[u, i] + appeal_weight * appeal[i]) * exp(-boredom * fatigue_i)``,
  where ``fatigue_i`` is the user's accumulated fatigue with the item's genres (boredom,
  厌倦): showing a genre adds to it, and it decays by ``fatigue_decay`` each step, so a
  genre not shown for a while is fresh again (novelty, 新颖性);
* a click is a reward of 1; after a click the user enjoys the item with probability
  ``like[u, i]``;
* dissatisfaction builds up from clicks the user did not enjoy (weight 1) and from
  ignored recommendations (weight ``ignore_cost``), decaying by ``dissatisfaction_decay``;
  the user leaves with probability ``leave_base + leave_slope * dissatisfaction`` after each
  step (``terminated``), or the session stops at ``horizon`` steps (``truncated``).

A recommender that maximises the immediate click probability favours high-appeal items
that users often do not enjoy, and loses them early; one that optimises the whole session
does better.

The observation comes in two views. Given ``observed_like`` (the recommender's own
predictions of the like probabilities, from a model fitted on logged data), it holds only
what a deployed system could log or compute: those predictions, the genre fatigue (which
follows from the items it showed), an **estimated** dissatisfaction (the same decaying sum,
with each click's unobservable "not enjoyed" replaced by ``1 - predicted like``) and the
elapsed share of the horizon. Without it, the observation is the oracle view: the true like
probabilities and the true dissatisfaction, which no recommender can see; use it to study
the simulator, not to compare policies.
"""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from .._checks import NotFittedError, check_array, check_number, check_positions, non_negative_int, positive_int
from ..data.interactions import IdIndex, check_interactions
from ..data.schema import ITEM, USER
from ..data.synthetic import PreferenceModel

__all__ = ["RecommendationEnv", "build_catalogue", "catalogue_min_ratings", "preferences_from_mf", "Catalogue",
           "FittedPreferences"]


class Catalogue:
    """The simulator's ground truth: like probabilities, appeal and genres of a small catalogue.

    Parameters
    ----------
    like : array (n_users, n_items)
        Probability that each user enjoys each item, in [0, 1].
    appeal : array (n_items,)
        Click appeal of each item, in [0, 1].
    item_genres : array (n_items, n_genres)
        Genre membership (0/1); each item needs at least one genre.
    item_ids : array (n_items,), optional
        The items' ids in the data set (default ``1..n_items``).
    user_features : array (n_users, d), optional
        A context vector per user for contextual bandits (default: none).
    genre_names : sequence of str, optional
    """

    def __init__(self, like, appeal, item_genres, item_ids=None, user_features=None, genre_names=None):
        like = check_array("like", like, ndim=2, dtype=np.float32)  # users x items
        appeal = check_array("appeal", appeal, ndim=1, dtype=np.float32)
        item_genres = check_array("item_genres", item_genres, ndim=2, dtype=np.float32)
        if like.shape[1] < 2:
            raise ValueError(f"like must be a 2-D (n_users, n_items) array with at least 2 items, got shape {like.shape}")
        n_items = like.shape[1]
        if not (like.min() >= 0 and like.max() <= 1):
            raise ValueError("like must hold probabilities in [0, 1]")
        if appeal.shape != (n_items,) or not (appeal.min() >= 0 and appeal.max() <= 1):
            raise ValueError(f"appeal must be {n_items} numbers in [0, 1], got shape {appeal.shape}")
        if item_genres.shape[0] != n_items:
            raise ValueError(f"item_genres must have one row per item ({n_items}), got shape {item_genres.shape}")
        if (item_genres.sum(axis=1) <= 0).any():
            raise ValueError("every item needs at least one genre in item_genres")
        self.like, self.appeal, self.item_genres = like, appeal, item_genres
        self.item_ids = np.arange(1, n_items + 1) if item_ids is None else np.asarray(item_ids)
        if user_features is not None:
            user_features = check_array("user_features", user_features, ndim=2, dtype=np.float32)
            if user_features.shape[0] != like.shape[0]:
                raise ValueError(f"user_features must have one row per user ({like.shape[0]}), "
                                 f"got shape {user_features.shape}")
        self.user_features = user_features
        self.genre_names = tuple(genre_names) if genre_names is not None else tuple(
            f"genre {g}" for g in range(item_genres.shape[1]))

    @property
    def n_users(self) -> int:
        return self.like.shape[0]

    @property
    def n_items(self) -> int:
        return self.like.shape[1]

    def __repr__(self) -> str:
        return f"Catalogue({self.n_users} users x {self.n_items} items, {self.item_genres.shape[1]} genres)"


@dataclass
class FittedPreferences(PreferenceModel):
    """A :class:`~rec_utils.data.synthetic.PreferenceModel` read off a model fitted on real data.

    Made by :func:`preferences_from_mf`. Like every ``PreferenceModel`` it addresses users and
    items as ``1..n``: here ``n`` runs over the fitted model's ``user_index`` / ``item_index``
    (its ``users_`` / ``items_``), so user ``user_index.ids[k]`` is ``k + 1``;
    :meth:`user_codes` and :meth:`item_codes` translate ids of the data into those numbers.
    """

    user_index: IdIndex | None = None
    item_index: IdIndex | None = None

    def user_codes(self, user_ids) -> np.ndarray:
        """The 1-based numbers this model gives the users ``user_ids`` (a ``ValueError`` names unknown ids)."""
        return self.user_index.positions(np.asarray(user_ids)) + 1

    def item_codes(self, item_ids) -> np.ndarray:
        """The 1-based numbers this model gives the items ``item_ids``."""
        return self.item_index.positions(np.asarray(item_ids)) + 1


def preferences_from_mf(model, noise: float | None = None, scale=None) -> FittedPreferences:
    """Turn a fitted matrix factorisation into a preference model (the simulator's truth).

    Real data has no ground truth; a matrix factorisation fitted on it is the next best
    thing. The model's prediction becomes the latent appetite ``s``, and a rating is read off
    as ``s`` plus Gaussian noise of standard deviation ``noise``, cut halfway between the values
    of the data's rating ``scale`` (a :class:`~rec_utils.data.RatingScale`; 1–5 stars by default,
    half stars work the same way), so ``like_probability(u, i, scale.like_threshold)`` is
    P(rating >= the like threshold) under the fitted model.

    * Rating models (:class:`~rec_utils.models.BiasedMF`, :class:`~rec_utils.models.FunkSVD`:
      ``user_factors_``, ``item_factors_``, ``user_bias_``, ``item_bias_``, ``global_mean_``)
      predict ratings; ``noise=None`` takes their training RMSE (the last entry of ``loss_``).
    * With implicit feedback (``scale.implicit``) there is no rating: a model of the 0/1
      interaction matrix such as :class:`~rec_utils.models.ImplicitALS` (factors only, no
      biases) predicts whether a user would choose an item, the two levels are 0 and 1 cut at
      0.5, and ``like_probability(u, i, 1)`` is P(prediction + noise > 0.5). ``noise=None``
      takes the root mean squared error ``1 - p_u . q_i`` over the training interactions.

    Users and items are numbered ``1..n`` in the order of the model's ``users_`` / ``items_``;
    the result carries both indexes (see :class:`FittedPreferences`).

    Examples
    --------
    >>> import pandas as pd
    >>> from rec_utils.models import BiasedMF
    >>> r = pd.DataFrame({"user_id": [1, 1, 2, 2], "item_id": [1, 2, 1, 2], "rating": [5.0, 1.0, 4.0, 2.0]})
    >>> truth = preferences_from_mf(BiasedMF(n_factors=1, reg=0.01).fit(r), noise=0.5)
    >>> bool(truth.like_probability([1], [1])[0] > truth.like_probability([1], [2])[0])
    True
    """
    from ..data.interactions import RatingScale

    scale = scale if scale is not None else RatingScale(1.0, 5.0, 1.0)
    if not isinstance(scale, RatingScale):
        raise TypeError(f"scale must be a RatingScale (e.g. data.rating_scale), got {type(scale).__name__}")
    needed = ("user_factors_", "item_factors_", "users_", "items_", "seen_") + (
        () if scale.implicit else ("user_bias_", "item_bias_", "global_mean_"))
    missing = [attribute for attribute in needed if not hasattr(model, attribute)]
    kind = ("a fitted factor model of the interactions (ImplicitALS)" if scale.implicit
            else "a fitted biased matrix factorisation (BiasedMF or FunkSVD)")
    if missing and not hasattr(model, "seen_"):  # a recommender that learned nothing yet
        raise NotFittedError(f"{type(model).__name__} is not fitted yet: preferences_from_mf needs {kind}")
    if missing:
        raise TypeError(f"preferences_from_mf needs {kind}; {type(model).__name__} has no {missing[0]}")
    user_factors = np.asarray(model.user_factors_, np.float32)
    item_factors = np.asarray(model.item_factors_, np.float32)
    if scale.implicit:
        levels = np.array([0.0, 1.0])
        user_bias, item_bias = np.zeros(len(user_factors), np.float32), np.zeros(len(item_factors), np.float32)
        global_mean = 0.0
        if noise is None:
            seen = model.seen_.tocoo()
            predicted = np.einsum("ij,ij->i", user_factors[seen.row], item_factors[seen.col])
            noise = float(np.sqrt(np.mean((1.0 - predicted) ** 2)))
    else:
        levels = scale.values()
        if len(levels) < 2:
            raise ValueError(f"preferences_from_mf needs a rating scale with several values, got {scale}")
        user_bias = np.asarray(model.user_bias_, np.float32)
        item_bias = np.asarray(model.item_bias_, np.float32)
        global_mean = float(model.global_mean_)
        if noise is None:
            if not getattr(model, "loss_", None):
                raise ValueError(f"noise=None takes the model's training RMSE from loss_, which "
                                 f"{type(model).__name__} does not have; pass noise")
            noise = float(model.loss_[-1])
    check_number("noise", noise, low=0, low_inclusive=False)
    n_items = len(item_factors)
    return FittedPreferences(
        user_factors=user_factors, item_factors=item_factors, user_bias=user_bias, item_bias=item_bias,
        global_mean=global_mean, cutpoints=(levels[1:] + levels[:-1]) / 2, noise=float(noise),
        item_popularity=np.full(n_items, 1.0 / n_items), genre_names=(), levels=levels,
        user_index=model.users_, item_index=model.items_)


def catalogue_min_ratings(ratings, n_items: int = 20) -> int:
    """How many ratings an item needs to enter the simulator's catalogue: the rule, from the data.

    The simulator's like probabilities come from a model that knows an item only through
    its ratings, so the catalogue takes items rated by **at least 2% of the users, and at
    least 20 times**; when fewer than ``5 * n_items`` items reach that (small data sets), the
    bar drops to the number of ratings of the ``5 * n_items``-th most-rated item, so that the
    catalogue can still be drawn from the whole popularity range.

    >>> import pandas as pd
    >>> r = pd.DataFrame({"user_id": [1, 2, 3, 1, 2], "item_id": [1, 1, 1, 2, 2]})
    >>> catalogue_min_ratings(r, n_items=1)
    2
    """
    check_interactions(ratings)
    counts = np.sort(ratings[ITEM].value_counts().to_numpy())[::-1]
    bar = max(20, int(np.ceil(0.02 * ratings[USER].nunique())))
    wanted = 5 * int(n_items)
    if (counts >= bar).sum() < wanted:
        bar = int(counts[min(wanted, len(counts)) - 1])
    return bar


def build_catalogue(data, preferences, n_items: int = 20, min_ratings: int | None = None, seed: int = 0,
                    like_threshold: float | None = None) -> Catalogue:
    """A small simulator catalogue drawn from a data set and a preference model.

    Picks ``n_items`` items with at least ``min_ratings`` ratings (default: the rule of
    :func:`catalogue_min_ratings`), one from each of ``n_items`` equal slices of their
    popularity ranking; an item's appeal is its popularity percentile within the catalogue
    (popular items draw clicks); like probabilities are ``preferences.like_probability`` at
    ``like_threshold`` (default: ``data.rating_scale.like_threshold``, or the top level of the
    preference model with implicit feedback); user features are the model's user factors and
    bias plus a constant 1 (the context of a contextual bandit).

    The users are those of ``data.ratings`` (no users table is needed). Genres drive the
    simulator's boredom; data without genres give every catalogue item a "genre" of its own,
    so boredom then applies to repeats of the same item only. With genres, items without any
    are left out.

    ``preferences`` is the synthetic data's ``truth`` (users and items addressed by their ids)
    or the result of :func:`preferences_from_mf` (ids translated through the fitted model's
    indexes: fit it on every user and item of the data).
    """
    check_number("n_items", n_items, low=2, integer=True)
    if min_ratings is None:
        min_ratings = catalogue_min_ratings(data.ratings, n_items)
    non_negative_int("min_ratings", min_ratings)
    counts = data.ratings[ITEM].value_counts()
    user_ids = np.unique(data.ratings[USER].to_numpy())
    item_ids = np.unique(counts.index.to_numpy())
    popularity = counts.reindex(item_ids).to_numpy()
    with_genres = data.has("genres")
    genre_table = data.genre_matrix().reindex(item_ids, fill_value=0) if with_genres else None
    has_genre = genre_table.to_numpy().sum(axis=1) > 0 if with_genres else np.ones(len(item_ids), bool)
    eligible = np.flatnonzero((popularity >= min_ratings) & has_genre)
    if len(eligible) < n_items:
        raise ValueError(f"only {len(eligible)} items have {min_ratings}+ ratings"
                         f"{' and a genre' if with_genres else ''}; need {n_items}")
    by_popularity = eligible[np.argsort(-popularity[eligible], kind="stable")]
    rng = np.random.default_rng(seed)
    strata = np.array_split(by_popularity, n_items)
    chosen = np.sort(np.array([rng.choice(s) for s in strata]))
    rank = np.argsort(np.argsort(popularity[chosen], kind="stable"), kind="stable")
    appeal = (rank + 0.5) / n_items  # popularity percentile within the catalogue
    if with_genres:
        genre_frame = genre_table.iloc[chosen]
        genre_flags = genre_frame.to_numpy(np.float32)
        keep = genre_flags.sum(axis=0) > 0
        genre_flags, names = genre_flags[:, keep], np.asarray(genre_frame.columns)[keep]
    else:  # no genres: each item is its own, so showing an item bores the user of that item only
        genre_flags = np.eye(n_items, dtype=np.float32)
        names = [f"item {i}" for i in data.original(ITEM, item_ids[chosen])]
    if isinstance(preferences, FittedPreferences):
        user_codes, item_codes = preferences.user_codes(user_ids), preferences.item_codes(item_ids[chosen])
    else:
        user_codes, item_codes = user_ids, item_ids[chosen]
    if like_threshold is None:
        scale = data.rating_scale
        like_threshold = float(np.asarray(preferences.levels)[-1]) if scale.implicit else scale.like_threshold
    like = preferences.like_probability(user_codes[:, None], item_codes[None, :], like_threshold).astype(np.float32)
    rows = np.asarray(user_codes) - 1
    features = np.hstack([preferences.user_factors[rows], preferences.user_bias[rows, None],
                          np.ones((len(user_ids), 1), np.float32)]).astype(np.float32)
    return Catalogue(like=like, appeal=appeal.astype(np.float32), item_genres=genre_flags,
                     item_ids=item_ids[chosen], user_features=features, genre_names=names)


class RecommendationEnv(gym.Env):
    """A session with one simulated user: recommend an item per step, observe a click.

    Parameters
    ----------
    catalogue : Catalogue
        The ground truth (see the module docstring).
    horizon : int
        Maximum session length (steps).
    appeal_weight : float
        Share of the click probability that comes from the item's appeal, in [0, 1].
    boredom : float
        How strongly genre fatigue lowers the click probability.
    fatigue_decay : float
        Per-step decay of genre fatigue, in [0, 1).
    ignore_cost, dissatisfaction_decay, leave_base, leave_slope : float
        Dissatisfaction and leaving, see the module docstring.
    users : array of int, optional
        Positions (0-based) of the users sessions are drawn from (default: all).
    observed_like : array (n_users, n_items), optional
        The recommender's own like predictions, shown in the observation instead of the
        truth (see the module docstring); default: the oracle view.

    Examples
    --------
    >>> cat = Catalogue(like=[[0.9, 0.1]], appeal=[0.2, 0.8], item_genres=[[1, 0], [0, 1]])
    >>> env = RecommendationEnv(cat, horizon=5)
    >>> obs, info = env.reset(seed=0)
    >>> obs.shape, int(env.action_space.n)
    ((6,), 2)
    >>> env.click_probabilities().round(2).tolist()  # the appealing item draws more clicks
    [0.41, 0.59]
    """

    metadata = {"render_modes": []}

    def __init__(self, catalogue: Catalogue, horizon: int = 50, appeal_weight: float = 0.7,
                 boredom: float = 0.6, fatigue_decay: float = 0.6, ignore_cost: float = 0.0,
                 dissatisfaction_decay: float = 0.8, leave_base: float = 0.01, leave_slope: float = 0.25,
                 users=None, observed_like=None):
        if not isinstance(catalogue, Catalogue):
            raise TypeError(f"catalogue must be a Catalogue, got {type(catalogue).__name__}")
        horizon = positive_int("horizon", horizon)
        for name, value in {"appeal_weight": appeal_weight, "leave_base": leave_base}.items():
            check_number(name, value, low=0, high=1)
        for name, value in {"fatigue_decay": fatigue_decay, "dissatisfaction_decay": dissatisfaction_decay}.items():
            check_number(name, value, low=0, high=1, high_inclusive=False)
        for name, value in {"boredom": boredom, "ignore_cost": ignore_cost, "leave_slope": leave_slope}.items():
            check_number(name, value, low=0)
        self.catalogue = catalogue
        self.horizon = horizon
        self.appeal_weight, self.boredom, self.fatigue_decay = appeal_weight, boredom, fatigue_decay
        self.ignore_cost, self.dissatisfaction_decay = ignore_cost, dissatisfaction_decay
        self.leave_base, self.leave_slope = leave_base, leave_slope
        self.users = (np.arange(catalogue.n_users) if users is None
                      else check_positions("users", users, catalogue.n_users))
        if observed_like is not None:
            observed_like = check_array("observed_like", observed_like, ndim=2, dtype=np.float32)
            if observed_like.shape != catalogue.like.shape:
                raise ValueError(f"observed_like must have the catalogue's shape {catalogue.like.shape} "
                                 f"(users x items), got {observed_like.shape}")
            if not (observed_like.min() >= 0 and observed_like.max() <= 1):
                raise ValueError("observed_like must hold probabilities in [0, 1]")
        self.observed_like = observed_like
        genres = catalogue.item_genres
        self._genre_share = genres / genres.sum(axis=1, keepdims=True)  # fatigue an item adds to each genre
        self._genre_mask = (genres > 0).astype(np.float32)
        n_items, n_genres = genres.shape
        max_fatigue = 1.0 / (1.0 - fatigue_decay)
        max_dissatisfaction = max(1.0, ignore_cost) / (1.0 - dissatisfaction_decay)
        low = np.concatenate([np.zeros(n_items + n_genres + 2)]).astype(np.float32)
        high = np.concatenate([np.ones(n_items), np.full(n_genres, max_fatigue),
                               [max_dissatisfaction, 1.0]]).astype(np.float32)
        self.observation_space = spaces.Box(low=low, high=high, dtype=np.float32)
        self.action_space = spaces.Discrete(n_items)
        self._user, self._fatigue, self._dissatisfaction, self._t = 0, np.zeros(n_genres), 0.0, 0
        self._estimated_dissatisfaction = 0.0

    @property
    def user(self) -> int:
        """Position of the current session's user."""
        return self._user

    @property
    def oracle_view(self) -> bool:
        """Whether observations show the truth (no ``observed_like`` was given)."""
        return self.observed_like is None

    def _observation(self) -> np.ndarray:
        if self.oracle_view:
            like, dissatisfaction = self.catalogue.like[self._user], self._dissatisfaction
        else:
            like, dissatisfaction = self.observed_like[self._user], self._estimated_dissatisfaction
        return np.concatenate([like, self._fatigue, [dissatisfaction, self._t / self.horizon]]).astype(np.float32)

    def click_probabilities(self, like=None) -> np.ndarray:
        """P(click) of every item for the current user in the current state.

        ``like`` replaces the user's true like probabilities, e.g. a recommender's own
        predictions (``observation[:n_items]`` in the logged view): the click formula with
        what the system knows, as a myopic recommender would estimate it.
        """
        if like is None:
            like = self.catalogue.like[self._user].astype(np.float64)
        else:
            like = check_array("like", like, ndim=1, dtype=np.float64)
            if like.shape != (self.catalogue.n_items,):
                raise ValueError(f"like must hold one probability per item ({self.catalogue.n_items}), got {like.shape}")
        attraction = (1 - self.appeal_weight) * like + self.appeal_weight * self.catalogue.appeal
        fatigue = (self._genre_mask @ self._fatigue) / self._genre_mask.sum(axis=1)
        return attraction * np.exp(-self.boredom * fatigue)

    def initial_click_probabilities(self) -> np.ndarray:
        """P(click) of every item for every user at the start of a session (no fatigue), float64.

        The reward table of the one-step (bandit) view of the simulator.
        """
        like = self.catalogue.like.astype(np.float64)
        return (1 - self.appeal_weight) * like + self.appeal_weight * self.catalogue.appeal[None, :]

    def reset(self, *, seed=None, options=None):
        """Start a session; ``options={"user": position}`` picks the user, else one is drawn."""
        super().reset(seed=seed)
        if options and "user" in options:
            self._user = check_number("user", options["user"], low=0, high=self.catalogue.n_users - 1, integer=True)
        else:
            self._user = int(self.np_random.choice(self.users))
        self._fatigue = np.zeros(self.catalogue.item_genres.shape[1])
        self._dissatisfaction, self._estimated_dissatisfaction, self._t = 0.0, 0.0, 0
        return self._observation(), {"user": self._user}

    def step(self, action):
        if not self.action_space.contains(action):
            raise ValueError(f"action must be an item position in 0..{self.action_space.n - 1}, got {action!r}")
        action = int(action)
        p_click = float(self.click_probabilities()[action])
        clicked = bool(self.np_random.random() < p_click)
        enjoyed = clicked and bool(self.np_random.random() < self.catalogue.like[self._user, action])
        regret = (1.0 if clicked and not enjoyed else 0.0) + (0.0 if clicked else self.ignore_cost)
        self._dissatisfaction = self.dissatisfaction_decay * self._dissatisfaction + regret
        if not self.oracle_view:  # what the system can compute: its own like prediction in place of "enjoyed"
            expected = ((1.0 - float(self.observed_like[self._user, action])) if clicked else self.ignore_cost)
            self._estimated_dissatisfaction = self.dissatisfaction_decay * self._estimated_dissatisfaction + expected
        self._fatigue = self.fatigue_decay * self._fatigue + self._genre_share[action]
        self._t += 1
        p_leave = min(1.0, self.leave_base + self.leave_slope * self._dissatisfaction)
        terminated = bool(self.np_random.random() < p_leave)
        truncated = self._t >= self.horizon and not terminated
        info = {"user": self._user, "click_probability": p_click, "enjoyed": enjoyed, "leave_probability": p_leave}
        return self._observation(), float(clicked), terminated, truncated, info
