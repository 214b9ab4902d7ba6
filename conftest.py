"""Test-session settings shared by unit and notebook tests.

Notebooks run in quick mode on the synthetic data set, offline, and write their results to
a temporary folder, whatever the developer's environment says. Kernels started by nbval
inherit these variables.
"""

import os
import tempfile

_scratch = tempfile.mkdtemp(prefix="rec_course_tests_")
os.environ.update({
    "REC_QUICK": "1",
    "REC_DATASET": "synthetic",
    "REC_OFFLINE": "1",
    "REC_RESULTS_DIR": os.path.join(_scratch, "results"),
    "REC_CACHE_DIR": os.path.join(_scratch, "cache"),
    "MPLBACKEND": "Agg",
    "TF_CPP_MIN_LOG_LEVEL": "3",
})
os.environ.pop("REC_DATA_DIR", None)
