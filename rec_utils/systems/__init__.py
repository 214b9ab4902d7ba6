"""A recommender as a running system: serving and retrieval (:mod:`~rec_utils.systems.serving`),
distributed training (:mod:`~rec_utils.systems.distributed`) and privacy
(:mod:`~rec_utils.systems.privacy`), notebooks 13 and 14.
"""
