"""The course as a learner meets it, in a real browser: headless Chromium driven by Playwright.

JupyterLab is started with the README's launch command (plus a loopback port, a token and no
browser of its own), in a copy of the checkout so that running cells and saving cannot touch
the committed notebooks. Through the page, as a learner would, the tests run notebooks 00 and
01, fill in and check an answer of a student assignment, and open the course website.

Offline: the server, its kernels and Chromium talk only to 127.0.0.1. Every request the page
makes to another host is refused and recorded; the only ones allowed are the images that the
opened notebooks themselves link to (their "Open in Colab" badge).

Needs a Chromium: Debian's ``chromium`` (``sudo apt-get install chromium``; ``.ci/run``
installs it), or any Chromium or Chrome named by ``REC_CHROMIUM``. Without one these tests
fail and say how to get it; ``pytest -m "not browser"`` leaves them out. Screenshots go to a
temporary folder (``REC_SCREENSHOTS_DIR`` to choose it); a failure names them.
"""

from __future__ import annotations

import functools
import html
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tools import course

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
LOOPBACK = "127.0.0.1"
FIRST = "notebooks/" + course.NOTEBOOKS[0].file
# Headless and quiet: without these Chromium keeps calling Google's services (refused here).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-default-apps", "--no-default-browser-check"]
SERVER_START_S = 120
RUN_TIMEOUT_MS = 300_000
# What the copy of the checkout leaves out: version control, environments, builds, local data.
_NOT_COPIED_AT_ROOT = {".git", ".venv", "venv", "_build", "build", "data", ".pytest_cache"}
_NOT_COPIED = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints", "*.egg-info")


def _chromium() -> str:
    for candidate in (os.environ.get("REC_CHROMIUM"), shutil.which("chromium"), shutil.which("chromium-browser"),
                      shutil.which("google-chrome")):
        if candidate and Path(candidate).exists():
            return candidate
    pytest.fail("The browser tests need headless Chromium and found none. Install Debian's package "
                "(sudo apt-get install chromium; .ci/run does this), or set REC_CHROMIUM to a Chromium or "
                "Chrome executable, or leave these tests out with: pytest -m 'not browser'", pytrace=False)


def _readme_block(name: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(rf"<!-- {name}:start -->(.*?)<!-- {name}:end -->", text, re.S).group(1)
    return " ".join(line for line in block.splitlines() if line.strip() and not line.startswith("```"))


def launch_command() -> list[str]:
    """The README's command after ``&& jupyter lab``, as an argument list (``jupyter lab`` included)."""
    _, found, arguments = _readme_block("install").partition("&& jupyter lab")
    assert found, "the README's install command should end by launching '&& jupyter lab ...'"
    jupyter = Path(sys.executable).with_name("jupyter")
    program = [str(jupyter), "lab"] if jupyter.exists() else [sys.executable, "-m", "jupyterlab"]
    return program + shlex.split(arguments)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


class Screenshots:
    """Numbered screenshots in one folder; ``step`` names them all in the message of a failure."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.taken: list[Path] = []

    def take(self, page, name: str, **options) -> Path:
        path = self.folder / f"{len(self.taken) + 1:02d}_{name}.png"
        page.screenshot(path=str(path), **options)
        self.taken.append(path)
        return path

    @contextmanager
    def step(self, page, what: str):
        try:
            yield
        except Exception as error:
            try:
                self.take(page, "FAILED_" + re.sub(r"\W+", "_", what).strip("_"))
            except Exception:  # noqa: BLE001  (the page may be gone; the first error matters)
                pass
            shots = "\n".join(f"  {path}" for path in self.taken) or "  (none)"
            raise AssertionError(f"{what}: {type(error).__name__}: {error}\nScreenshots:\n{shots}") from error


@pytest.fixture(scope="module")
def shots() -> Screenshots:
    folder = Path(os.environ.get("REC_SCREENSHOTS_DIR") or tempfile.mkdtemp(prefix="rec_browser_screenshots_"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nbrowser test screenshots: {folder}")
    return Screenshots(folder)


@pytest.fixture(scope="module")
def browser():
    executable = _chromium()
    with tempfile.TemporaryDirectory(prefix="rec_chromium_profile_") as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=executable, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 900})
        yield context
        context.close()


class Offline:
    """Lets the page reach ``allowed`` (a URL prefix) and refuses and records anything else."""

    def __init__(self, page, allowed: str):
        self.allowed = allowed
        self.refused: list[str] = []
        page.route("**/*", self._route)

    def _route(self, route):
        url = route.request.url
        if url.startswith(self.allowed):
            route.continue_()
        else:
            self.refused.append(url)
            route.abort()


class Lab:
    """JupyterLab started with the README's command in a copy of the checkout."""

    def __init__(self, work: Path):
        self.work = work
        self.root = work / "course"
        shutil.copytree(ROOT, self.root, ignore=self._ignore)
        self.port = _free_port()
        self.token = os.urandom(16).hex()
        self.base = f"http://{LOOPBACK}:{self.port}/"
        settings = work / "lab-settings"
        notification = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
        notification.parent.mkdir(parents=True)
        # A new JupyterLab asks in a toast whether to fetch Jupyter's news: answer no, stay offline.
        notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
        env = dict(os.environ, REC_QUICK="1", REC_DATASET="synthetic", REC_OFFLINE="1",
                   REC_RESULTS_DIR=str(work / "results"), REC_CACHE_DIR=str(work / "cache"),
                   JUPYTER_RUNTIME_DIR=str(work / "runtime"), JUPYTER_CONFIG_DIR=str(work / "config"),
                   JUPYTERLAB_SETTINGS_DIR=str(settings), JUPYTERLAB_WORKSPACES_DIR=str(work / "workspaces"))
        env.pop("REC_DATA_DIR", None)
        env.pop("MPLBACKEND", None)  # the tests' Agg would keep the kernels from showing figures
        flags = ["--no-browser", f"--ip={LOOPBACK}", f"--port={self.port}", "--ServerApp.port_retries=0",
                 f"--IdentityProvider.token={self.token}", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            flags.append("--allow-root")  # CI runs as root
        self.log_path = work / "jupyterlab.log"
        self.log = open(self.log_path, "w")
        self.command = launch_command() + flags
        self.process = subprocess.Popen(self.command, cwd=self.root, env=env, stdout=self.log,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            self.url = self._wait_for_the_url_it_would_open(work / "runtime")
        except BaseException:
            self.stop()
            raise

    def _ignore(self, folder, names):
        ignored = set(_NOT_COPIED(folder, names))
        if Path(folder) == ROOT:
            ignored |= _NOT_COPIED_AT_ROOT & set(names)
        return ignored

    def log_tail(self, lines: int = 30) -> str:
        self.log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def _wait_for_the_url_it_would_open(self, runtime: Path) -> str:
        """The address the server would have opened in the learner's browser (its redirect file)."""
        deadline = time.monotonic() + SERVER_START_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"JupyterLab exited ({self.process.returncode}):\n{self.log_tail()}")
            pages = sorted(runtime.glob("jpserver-*-open.html"), key=lambda p: "file-to-run" not in p.name)
            if pages:
                link = re.search(r'href="([^"]+)"', pages[0].read_text())
                if link:
                    return html.unescape(link.group(1))
            time.sleep(0.5)
        raise AssertionError(f"JupyterLab did not start within {SERVER_START_S} s:\n{self.log_tail()}")

    def api(self, method: str, path: str):
        request = urllib.request.Request(self.base + path, method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                for kernel in self.api("GET", "api/kernels"):
                    self.api("DELETE", f"api/kernels/{kernel['id']}")
            except OSError:
                pass  # not listening (yet or any more): SIGTERM below stops it and its kernels
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


@pytest.fixture
def lab(tmp_path):
    server = Lab(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def lab_page(lab, browser, shots):
    """A new tab on the address the README's command opens, refusing every other host."""
    page = browser.new_page()
    page.set_default_timeout(60_000)
    offline = Offline(page, lab.base)
    with shots.step(page, "open JupyterLab at the address the README's command opens"):
        page.goto(lab.url)
        page.locator(".jp-NotebookPanel").first.wait_for()
    yield page, offline
    page.close()


# -- JupyterLab through its user interface ---------------------------------------------------------

_CURRENT = ".jp-NotebookPanel:not(.lm-mod-hidden)"
_RUN_FINISHED = """(needCount) => {
    const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
    if (!panel) return false;
    const status = panel.querySelector('.jp-Notebook-ExecutionIndicator')?.dataset.status;
    const prompts = [...panel.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')].map(p => p.textContent);
    return status === 'idle' && !prompts.some(p => p.includes('*')) && prompts.filter(p => /\\d/.test(p)).length >= needCount;
}"""


def _menu(page, menu: str, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(rf"^{re.escape(menu)}$")).click()
    page.locator(".lm-Menu:visible .lm-Menu-item:not(.lm-mod-disabled)",
                 has_text=re.compile(rf"^{re.escape(item)}")).first.click()


def _wait_for_kernel(page) -> None:
    page.locator(f"{_CURRENT} .jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(timeout=120_000)


def _open_from_file_browser(page, path: str) -> None:
    """Double-click each part of ``path`` from the file browser's root, as a learner would."""
    page.locator(".jp-BreadCrumbs-home").click()
    for part in path.split("/"):
        item = page.locator(".jp-DirListing-item", has=page.locator(".jp-DirListing-itemText", has_text=re.compile(
            rf"^{re.escape(part)}$")))
        item.dblclick()
    page.locator(".lm-TabBar-tab.jp-mod-current", has_text=path.rsplit("/", 1)[-1]).wait_for()
    page.locator(f"{_CURRENT} .jp-Cell").first.wait_for()


def _run_all_and_save(page, lab: Lab, path: str) -> dict:
    """Clear the outputs, run every cell from the Run menu, save, and return the saved notebook."""
    _wait_for_kernel(page)
    _menu(page, "Edit", "Clear Outputs of All Cells")
    _menu(page, "Run", "Run All Cells")
    page.wait_for_function(_RUN_FINISHED, arg=1, timeout=RUN_TIMEOUT_MS, polling=500)
    saved = lab.root / path
    before = saved.stat().st_mtime_ns
    page.locator(f"{_CURRENT} .jp-Notebook").click(position={"x": 5, "y": 5})
    page.keyboard.press("Escape")
    page.keyboard.press("Control+s")
    page.locator(".lm-TabBar-tab.jp-mod-current:not(.jp-mod-dirty)").wait_for()
    assert saved.stat().st_mtime_ns != before, f"{path} was not saved"
    return json.loads(saved.read_text(encoding="utf-8"))


def _check_clean_run(notebook: dict, path: str) -> None:
    code = [c for c in notebook["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    for cell in code:
        for output in cell["outputs"]:
            assert output["output_type"] != "error", (
                f"{path}: a cell raised {output['ename']}: {output['evalue']}\n--- cell ---\n{''.join(cell['source'])[:500]}")
    not_run = ["".join(c["source"])[:80] for c in code if c["execution_count"] is None]
    assert not not_run, f"{path}: {len(not_run)} of {len(code)} code cells did not run, from: {not_run[0]!r}"


def _image_outputs(notebook: dict) -> int:
    return sum(1 for cell in notebook["cells"] for output in cell.get("outputs", [])
               if any(kind.startswith("image/") for kind in output.get("data", {})))


def _rendered_images(page) -> tuple[int, int]:
    """Images in the notebook's outputs, and how many of them the browser decoded."""
    found, decoded = page.evaluate("""() => {
        const images = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output img')];
        return [images.length, images.filter(i => i.complete && i.naturalWidth > 0).length];
    }""")
    return found, decoded


def _show(page, locator, block: str = "start") -> None:
    """Scroll ``locator`` into view (``block``: start or center) and let the browser paint it.

    Twice: cells off screen are laid out only once near the viewport (content-visibility), so
    the first scroll can land short of the element.
    """
    for _ in range(2):
        locator.evaluate("(element, block) => element.scrollIntoView({block})", block)
        page.wait_for_timeout(600)


def _only_the_notebooks_own_links(offline: Offline, *paths: str) -> None:
    """JupyterLab loads nothing remote; the notebooks may link to an image (their Colab badge)."""
    text = "".join((ROOT / path).read_text(encoding="utf-8") for path in paths)
    foreign = [url for url in offline.refused if url not in text]
    assert not foreign, f"the page tried to load from other hosts: {foreign}"


def test_readme_launch_opens_notebook_00_at_the_root_and_runs_it(lab, lab_page, shots):
    page, offline = lab_page
    with shots.step(page, "JupyterLab shows the repository's root with notebook 00 open"):
        opened = urllib.parse.unquote(lab.url)
        assert opened.startswith(lab.base + course.lab_path(FIRST)), f"the README's command opens {opened}"
        assert course.binder_url(FIRST).endswith(
            "urlpath=" + urllib.parse.quote(course.lab_path(FIRST), safe="/")), "Binder opens another place"
        page.locator(".lm-TabBar-tab.jp-mod-current", has_text=course.NOTEBOOKS[0].file[:20]).wait_for()
        listing = page.locator(".jp-DirListing-content .jp-DirListing-itemText")
        listing.filter(has_text=re.compile("^assignments$")).wait_for()
        names = set(listing.all_inner_texts())
        assert {"notebooks", "assignments", "docs", "README.md"} <= names, names
        _wait_for_kernel(page)
        shots.take(page, "lab_opened_notebook_00")
    with shots.step(page, "run all cells of notebook 00 from the Run menu in quick mode"):
        started = time.monotonic()
        saved = _run_all_and_save(page, lab, FIRST)
        _check_clean_run(saved, FIRST)
        print(f"notebook 00 ran in the page in {time.monotonic() - started:.0f} s")
        text = page.locator(_CURRENT).text_content()  # all cells, also those scrolled out of view
        assert "Mode: QUICK" in text and "synthetic" in text, "the kernel did not get the test's environment"
        assert "Traceback" not in text
        assert _rendered_images(page) == (_image_outputs(saved), _image_outputs(saved))
        _show(page, page.locator(f"{_CURRENT} .jp-CodeCell").nth(1))  # setup(): quick mode, synthetic data
        shots.take(page, "lab_notebook_00_after_run_all")
    with shots.step(page, "nothing loaded from another host"):
        _only_the_notebooks_own_links(offline, FIRST)


def test_notebook_01_plots_render_in_jupyterlab(lab, lab_page, shots):
    page, offline = lab_page
    path = "notebooks/" + course.NOTEBOOKS[1].file
    with shots.step(page, "open notebook 01 from the file browser and run all its cells"):
        _open_from_file_browser(page, path)
        saved = _run_all_and_save(page, lab, path)
        _check_clean_run(saved, path)
    with shots.step(page, "every figure of notebook 01 is drawn in the page"):
        expected = _image_outputs(saved)
        assert expected > 0, "notebook 01 made no figure in quick mode"
        found, decoded = _rendered_images(page)
        assert found == expected, f"{found} images in the page, {expected} image outputs in the saved notebook"
        assert decoded == found, f"only {decoded} of {found} images could be decoded"
        _show(page, page.locator(f"{_CURRENT} .jp-OutputArea-output img").first, "center")
        shots.take(page, "lab_notebook_01_first_figure")
    with shots.step(page, "nothing loaded from another host"):
        _only_the_notebooks_own_links(offline, FIRST, path)


def _solution(question_cell_start: str, assignment: str) -> str:
    """The autograder version's answer to the question whose answer cell starts with ``question_cell_start``."""
    cells = json.loads((ROOT / "assignments" / "autograder" / assignment).read_text(encoding="utf-8"))["cells"]
    source = next("".join(c["source"]) for c in cells
                  if c["cell_type"] == "code" and "".join(c["source"]).startswith(question_cell_start))
    return "\n".join(line for line in source.splitlines() if "SOLUTION" not in line)


def test_student_assignment_checks_an_answer_in_the_page(lab, lab_page, shots):
    page, offline = lab_page
    assignment = "01_data_exploration.ipynb"
    path = f"assignments/student/{assignment}"
    cell = page.locator(f"{_CURRENT} .jp-CodeCell")

    def code_cell(starting: str):
        return cell.filter(has=page.locator(".jp-InputArea-editor", has_text=re.compile(rf"^{re.escape(starting)}")))

    with shots.step(page, "open the student version of assignment 01 from the file browser"):
        _open_from_file_browser(page, path)
        _wait_for_kernel(page)
    with shots.step(page, "write the answer to question 1"):
        answer = code_cell("def density(ratings)")
        answer.locator(".cm-content").click()
        page.keyboard.press("Control+a")
        page.keyboard.insert_text(_solution("def density(ratings)", assignment))
        page.keyboard.press("Escape")
    with shots.step(page, "run the cells above the q1 check, then the check itself"):
        check = code_cell('grader.check("q1")')
        check.locator(".jp-InputArea-prompt").click()
        _menu(page, "Run", "Run All Above Selected Cell")
        page.wait_for_function(_RUN_FINISHED, arg=4, timeout=RUN_TIMEOUT_MS, polling=500)
        check.locator(".jp-InputArea-prompt").click()
        page.keyboard.press("Shift+Enter")
        result = check.locator(".jp-OutputArea-output")
        result.first.wait_for(timeout=RUN_TIMEOUT_MS)
        page.wait_for_function(_RUN_FINISHED, arg=5, timeout=RUN_TIMEOUT_MS, polling=500)
        assert re.search(r"q1\s+passed", result.first.inner_text()), result.first.inner_text()
        _show(page, answer)
        shots.take(page, "lab_assignment_01_q1_passed")
    with shots.step(page, "an unanswered question 2 fails its check"):
        code_cell("def busiest_hour(timestamps)").locator(".jp-InputArea-prompt").click()
        page.keyboard.press("Shift+Enter")  # the blank answer cell, then its check
        page.keyboard.press("Shift+Enter")
        blank = code_cell('grader.check("q2")').locator(".jp-OutputArea-output").first
        blank.wait_for(timeout=RUN_TIMEOUT_MS)
        assert "q2 results" in blank.inner_text() and "failed" in blank.inner_text(), blank.inner_text()[:300]
    with shots.step(page, "nothing loaded from another host"):
        _only_the_notebooks_own_links(offline, FIRST, path)


# -- The course website ---------------------------------------------------------------------------------


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def send_error(self, code, message=None, explain=None):
        self.server.errors.append((code, self.path))
        super().send_error(code, message, explain)


@pytest.fixture
def site_server(built_site):
    server = ThreadingHTTPServer((LOOPBACK, 0), functools.partial(_QuietHandler, directory=str(built_site)))
    server.errors = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, f"http://{LOOPBACK}:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_site_home_page_and_a_notebook_page(site_server, browser, shots):
    server, base = site_server
    page = browser.new_page()
    page.set_default_timeout(60_000)
    offline = Offline(page, base)
    notebook = next(nb.file for nb in course.NOTEBOOKS if nb.file.startswith("04_"))
    with shots.step(page, "the home page shows the course map"):
        page.goto(base)
        page.wait_for_load_state("networkidle")
        assert page.title().startswith("Can large models change the recommendation paradigm?"), page.title()
        for nb in course.NOTEBOOKS:
            assert page.locator(f"a[href='notebooks/{nb.file.removesuffix('.ipynb')}.html']").count() > 0, nb.file
        shots.take(page, "site_home")
    with shots.step(page, "a notebook page shows its outputs, figures and formulas"):
        page.locator(f"article a[href='notebooks/{notebook.removesuffix('.ipynb')}.html']").first.click()
        page.wait_for_load_state("networkidle")
        page.wait_for_function("() => document.querySelectorAll('.MathJax, .MathJax_Display').length > 0")
        assert page.locator(".MathJax_Error").count() == 0
        found, decoded = page.evaluate("""() => {
            const images = [...document.querySelectorAll('article img')];
            return [images.length, images.filter(i => i.complete && i.naturalWidth > 0).length];
        }""")
        committed = _image_outputs(json.loads((ROOT / "notebooks" / notebook).read_text(encoding="utf-8")))
        assert found == decoded == committed, (found, decoded, committed)
        assert page.locator(f"a[href='{course.binder_url('notebooks/' + notebook)}']").count() == 1
        assert page.locator(f"a[href='{course.colab_url(notebook)}']").count() == 1
        shots.take(page, "site_notebook_04")
        _show(page, page.locator("article img").first)
        shots.take(page, "site_notebook_04_figure")
    english_url = page.url
    with shots.step(page, "the language switch opens the same notebook in Chinese, with its outputs and formulas"):
        page.locator("a.language-switch__other").click()
        page.wait_for_load_state("networkidle")
        assert page.url == f"{base}zh/notebooks/{notebook.removesuffix('.ipynb')}.html", page.url
        assert page.evaluate("document.documentElement.lang") == "zh-CN"
        page.wait_for_function("() => document.querySelectorAll('.MathJax, .MathJax_Display').length > 0")
        assert page.locator(".MathJax_Error").count() == 0
        found, decoded = page.evaluate("""() => {
            const images = [...document.querySelectorAll('article img')];
            return [images.length, images.filter(i => i.complete && i.naturalWidth > 0).length];
        }""")
        committed = _image_outputs(json.loads((ROOT / "notebooks" / course.ZH / notebook).read_text(encoding="utf-8")))
        assert found == decoded == committed, (found, decoded, committed)
        assert page.locator(f"a[href='{course.colab_url(course.ZH + '/' + notebook)}']").count() == 1
        shots.take(page, "site_notebook_04_zh")
    with shots.step(page, "and back to the English page"):
        page.locator("a.language-switch__other").click()
        page.wait_for_load_state("networkidle")
        assert page.url == english_url and page.evaluate("document.documentElement.lang") == "en", page.url
    with shots.step(page, "the pages loaded everything from the site itself"):
        assert not offline.refused, f"the site tried to load from other hosts: {offline.refused}"
        assert not server.errors, f"missing files: {server.errors}"
    page.close()
