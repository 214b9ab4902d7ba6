"""The data layer: the schema, data sets and their loaders, splits, cleaning and features.

The names notebooks use most are importable from here::

    from rec_utils.data import IdIndex, interaction_matrix, stratified_split

The loaders (:mod:`~rec_utils.data.datasets`) are imported on first use: importing the
package stays cheap, and ``python -m rec_utils.data.datasets fetch ml-100k`` runs the module
without importing it twice.
"""

from .interactions import (
    CAPABILITIES, Capabilities, Dataset, IdIndex, RatingScale, check_interactions, deduplicate_interactions,
    interaction_matrix,
)
from .split import leave_last_k_out, random_split, sample_candidates, stratified_split, temporal_split
from .synthetic import generate_movielens_like, load_synthetic

_FROM_DATASETS = ("dataset_names", "load_dataset", "read_movielens", "read_ratings_file")

__all__ = sorted([
    "CAPABILITIES", "Capabilities", "Dataset", "IdIndex", "RatingScale", "check_interactions",
    "deduplicate_interactions", "generate_movielens_like", "interaction_matrix", "leave_last_k_out",
    "load_synthetic", "random_split", "sample_candidates", "stratified_split", "temporal_split",
    *_FROM_DATASETS,
])


def __getattr__(name):
    if name in _FROM_DATASETS:
        from . import datasets

        return getattr(datasets, name)
    raise AttributeError(f"module 'rec_utils.data' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_FROM_DATASETS])
