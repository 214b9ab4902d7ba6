"""Write a learner-style CSV to test the course on "your own data": string ids, no timestamp.

    python benchmarks/own_data.py /tmp/my_ratings.csv            # ML-100K's size
    python benchmarks/own_data.py /tmp/small.csv --quick         # a small one
    python benchmarks/own_data.py /tmp/clicks.csv --implicit     # no rating column: implicit feedback
    REC_DATASET=/tmp/my_ratings.csv python benchmarks/run_notebooks.py

The ratings come from the synthetic generator (nothing from MovieLens): users are named
``user-0001``..., items ``film-0001``...; the columns are ``user, item, rating`` (an alias
set the loader accepts) and there is no timestamp, so every section that needs time order
must say so and skip.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rec_utils.data import load_synthetic


def write_own_csv(path: Path, quick: bool = False, seed: int = 7, implicit: bool = False) -> Path:
    data = load_synthetic("synthetic", quick=quick, seed=seed)
    ratings = data.ratings.sample(frac=1.0, random_state=seed)  # a file in no particular order
    frame = ratings.assign(user=ratings["user_id"].map("user-{:04d}".format),
                           item=ratings["item_id"].map("film-{:04d}".format))[["user", "item", "rating"]]
    if implicit:  # a log of who chose what: the rows rated 4 or more, without their rating
        frame = frame[frame["rating"] >= 4][["user", "item"]]
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--quick", action="store_true", help="a small file (200 users)")
    parser.add_argument("--implicit", action="store_true", help="no rating column (implicit feedback)")
    args = parser.parse_args(argv)
    path = write_own_csv(args.path, args.quick, implicit=args.implicit)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
