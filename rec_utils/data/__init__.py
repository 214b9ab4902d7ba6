"""The data layer: the schema, data sets and their loaders, splits, cleaning and features.

The names notebooks use most are importable from here::

    from rec_utils.data import IdIndex, interaction_matrix, stratified_split
"""

from .datasets import dataset_names, load_dataset, read_movielens, read_ratings_file
from .interactions import (
    CAPABILITIES, Capabilities, Dataset, IdIndex, RatingScale, check_interactions, deduplicate_interactions,
    interaction_matrix,
)
from .split import leave_last_k_out, random_split, sample_candidates, stratified_split, temporal_split
from .synthetic import generate_movielens_like, load_synthetic

__all__ = [
    "CAPABILITIES", "Capabilities", "Dataset", "IdIndex", "RatingScale", "check_interactions", "dataset_names",
    "deduplicate_interactions", "generate_movielens_like", "interaction_matrix", "leave_last_k_out",
    "load_dataset", "load_synthetic", "random_split", "read_movielens", "read_ratings_file", "sample_candidates",
    "stratified_split", "temporal_split",
]
