"""Every notebook also runs, in quick mode, on the catalogue-heavy synthetic shape.

nbval runs the notebooks on the default synthetic shape (ML-100K-like, with demographics and
1–5 stars); this runs them again on ``synthetic-latest-small``: a catalogue much larger than the
user base, a third of the items rated once, half-star ratings and no demographics, as in
ml-latest-small. A notebook that assumes ML-100K's shape or columns fails here with the cell
that broke and its error.
"""

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SHAPE = "synthetic-latest-small"


@pytest.mark.notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem[:2])
def test_notebook_runs_on_the_catalogue_heavy_shape(path, monkeypatch, tmp_path):
    monkeypatch.setenv("REC_DATASET", SHAPE)
    monkeypatch.setenv("REC_QUICK", "1")
    monkeypatch.setenv("REC_OFFLINE", "1")
    monkeypatch.setenv("REC_RESULTS_DIR", str(tmp_path / "results"))
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    for index, cell in enumerate(nb.cells):
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if errors:
            error = errors[0]
            pytest.fail(f"{path.name}, cell {index} failed on {SHAPE} ({error['ename']}: {error['evalue']}):\n"
                        f"{cell.source[:600]}")
    text = "".join(o.get("text", "") for cell in nb.cells for o in cell.get("outputs", []))
    assert f"shape '{SHAPE}'" in text, "the notebook did not run on the requested data set"
    assert os.environ["REC_DATASET"] == SHAPE
