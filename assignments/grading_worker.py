"""One worker process of ``assignments.py grade``: grades submissions with ``otter run``'s own code.

A worker imports otter once (about 2.5 s) and then grades the submissions it is given, each
in a fresh kernel as ``otter run`` does, so that with ``--workers N`` several submissions are
graded at the same time and none pays the import again.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import warnings


class _Timeout(Exception):
    pass


@contextlib.contextmanager
def _quiet_stderr():
    """Hide the kernel's start-up notices (it writes to file descriptor 2, which it inherits)."""
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _raise_timeout(signum, frame):
    raise _Timeout()


def _short(message: str, lines: int = 3) -> str:
    kept = [line.strip() for line in (message or "").splitlines() if line.strip()]
    return " | ".join(kept[-lines:])


def _patch_otter_log_receiver() -> None:
    """otter 7.0 receives the kernel's log records on a socket; when the kernel closes it in the
    middle of a record (it happens when a kernel is shut down under load), the receiving thread
    calls recv() on the closed socket forever, at 100% of a core, and the process never exits.
    Stop reading at the end of the stream instead, and let the thread die with the process."""
    import logging
    import struct

    from otter.execute import logging as otter_logging

    handler = otter_logging.LogRecordStreamHandler
    if getattr(handler, "_stops_at_end_of_stream", False):
        return

    def handle(self):
        while True:
            header = self.connection.recv(4)
            if len(header) < 4:
                return
            size = struct.unpack(">L", header)[0]
            chunk = self.connection.recv(size)
            while len(chunk) < size:
                more = self.connection.recv(size - len(chunk))
                if not more:  # the connection closed in the middle of a record
                    return
                chunk += more
            self.handle_log_record(logging.makeLogRecord(self.unpickle(chunk)))

    handler.handle = handle
    handler._stops_at_end_of_stream = True
    otter_logging.LogRecordSocketReceiver.daemon_threads = True


def grade_one(zip_path: str, submission: str, timeout: int) -> dict:
    """Grade ``submission`` with the autograder ``zip_path``.

    Returns ``{"scores": {q: points}, "max": {q: points}, "failed": {q: [text, ...]}, "error": str}``;
    each failed test case is described by its failure message (what the mistake is) or, for a
    case without one, by the last lines of its doctest output.
    """
    from otter.run import main as otter_run

    _patch_otter_log_receiver()

    path = os.environ.get("PATH", "")
    previous = signal.signal(signal.SIGALRM, _raise_timeout)
    signal.alarm(max(int(timeout), 1))
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), _quiet_stderr(), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore")  # otter's own deprecation warnings are not the instructor's business
            results = otter_run(submission, autograder=zip_path, output_dir=None, no_logo=True)
    except _Timeout:
        return {"scores": {}, "max": {}, "failed": {}, "error": f"grading took longer than {timeout} s"}
    except Exception as error:  # noqa: BLE001 - one broken submission must not stop the class's grading
        return {"scores": {}, "max": {}, "failed": {}, "error": f"{type(error).__name__}: {error}"[:500]}
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        os.environ["PATH"] = path  # otter run prepends a miniconda folder for every submission
    if getattr(results, "_catastrophic_error", None) is not None or not results.results:
        return {"scores": {}, "max": {}, "failed": {},
                "error": _short(str(getattr(results, "_catastrophic_error", "") or "no results"))}
    scores, maxima, failed = {}, {}, {}
    for name, test_file in results.results.items():
        scores[name], maxima[name] = float(test_file.score or 0), float(test_file.possible)
        failed[name] = [f"{result.test_case.name}: "
                        + (result.test_case.failure_message or _short(result.message))
                        for result in test_file.test_case_results if not result.passed]
    return {"scores": scores, "max": maxima, "failed": failed, "error": ""}
