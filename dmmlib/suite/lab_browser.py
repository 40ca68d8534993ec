"""The notebooks in JupyterLab, driven in a real headless browser (Debian's chromium, through Playwright).

:func:`jupyterlab` starts a JupyterLab server from this Python environment on 127.0.0.1 (a free port, a random
token, a given root folder, fresh settings and workspaces), waits until it answers, and always stops it and its
kernels on the way out. :class:`LabPage` opens a notebook, runs all its cells through the Run menu as a student
would, and reads widgets back from the page: the threshold explorer of notebook 04 (found by its ``tau`` slider and
``attribute`` dropdown, not by cell position) and the photo upload of notebook 10. ``tests/test_lab.py`` uses them;
``make lab`` starts JupyterLab for students the same way (from the venv, in ``notebooks/``).

Both start JupyterLab with :data:`CLASSROOM_SETTINGS` as the environment's ``overrides.json``
(``python -m dmmlib.suite.lab_browser --write-overrides``, which ``make lab`` runs first): no "Would you like to get
notified about official Jupyter news?" prompt on every student's laptop, and no update check.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dmmlib.files import atomic
from dmmlib.suite.book.browser import CHROMIUM, CHROMIUM_ARGS

#: JupyterLab's defaults for a class (its ``overrides.json``, which user settings can still change): no news prompt
#: ("none", the default, asks every new user whether to fetch news from the internet) and no update check.
CLASSROOM_SETTINGS: dict[str, dict[str, Any]] = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}
#: JupyterLab user settings for a test server: every cell in the page (so a locator finds output below the fold).
TEST_SETTINGS: dict[str, dict[str, Any]] = {
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
}
#: The prompt :data:`CLASSROOM_SETTINGS` keeps away, as JupyterLab 4 words it
NEWS_PROMPT = "official Jupyter news"
#: The threshold explorer of ``dmmlib.lab.widgets.threshold_explorer``: a box with an ``attribute`` dropdown and a
#: ``tau`` slider above an HTML table.
EXPLORER = (
    ".jp-OutputArea-output .widget-vbox"
    ":has(> .widget-hbox .widget-dropdown:has-text('attribute'))"
    ":has(> .widget-hbox .widget-slider:has-text('tau'))"
)
UPLOAD_BOX = ".jp-OutputArea-output .widget-vbox:has(> .widget-upload)"
STDERR = "application/vnd.jupyter.stderr"
#: An error output: IPython's traceback header or a final "SomeError: message" line.
TRACEBACK = re.compile(r"Traceback \(most recent call last\)|^\w*(Error|Exception)\b.*$|Cell In\[\d+\]", re.M)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_settings(folder: Path, settings: Mapping[str, Mapping[str, Any]] = TEST_SETTINGS) -> None:
    """JupyterLab user settings (``<plugin id>.jupyterlab-settings`` files) under ``folder``."""
    for plugin, values in settings.items():
        package, name = plugin.rsplit("/", 1)
        path = folder / package / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values), encoding="utf-8")


def app_settings_dir(prefix: str | os.PathLike[str] = sys.prefix) -> Path:
    """Where JupyterLab of the environment at ``prefix`` reads its ``overrides.json`` (its app settings folder)."""
    return Path(prefix) / "share" / "jupyter" / "lab" / "settings"


def write_overrides(folder: Path, settings: Mapping[str, Mapping[str, Any]] = CLASSROOM_SETTINGS) -> Path:
    """Merge ``settings`` into ``folder/overrides.json`` (other plugins' entries kept), written atomically."""
    path = folder / "overrides.json"
    merged: dict[str, Any] = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    for plugin, values in settings.items():
        merged[plugin] = {**merged.get(plugin, {}), **values}
    folder.mkdir(parents=True, exist_ok=True)
    return atomic.write_text(path, json.dumps(merged, indent=2) + "\n")


def lab_command(root: Path, port: int, token: str, *, open_browser: bool = False,
                app_settings: Path | None = None) -> list[str]:  # fmt: skip
    """The command that starts JupyterLab from this interpreter's environment on 127.0.0.1 (``app_settings``: the
    folder of its ``overrides.json``, default the environment's)."""
    command = [
        sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={root}", "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]  # fmt: skip
    if app_settings is not None:
        command.append(f"--LabApp.app_settings_dir={app_settings}")
    if not open_browser:
        command.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # containers and CI machines often run as root
    return command


@dataclass
class LabServer:
    url: str  #: base URL, ending in /
    token: str
    root: Path
    process: subprocess.Popen

    def api(self, path: str, method: str = "GET") -> Any:
        request = urllib.request.Request(
            urllib.parse.urljoin(self.url, path), method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def notebook_url(self, name: str) -> str:
        return urllib.parse.urljoin(self.url, f"lab/tree/{urllib.parse.quote(name)}?reset&token={self.token}")


def _wait_until_up(server: LabServer, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with code {server.process.returncode}:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(OSError, urllib.error.URLError, ValueError):
            server.api("api/status")
            return
        time.sleep(0.5)
    raise TimeoutError(f"JupyterLab did not answer within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def stop(server: LabServer, grace: float = 15.0) -> None:
    """Shut down the server's kernels, then the server (SIGTERM, then SIGKILL to its process group)."""
    with contextlib.suppress(Exception):
        for kernel in server.api("api/kernels"):
            with contextlib.suppress(Exception):
                server.api(f"api/kernels/{kernel['id']}", method="DELETE")
    children = []
    with contextlib.suppress(Exception):
        import psutil

        children = psutil.Process(server.process.pid).children(recursive=True)
    if server.process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.process.pid, signal.SIGTERM)
        try:
            server.process.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait(grace)
    for child in children:  # kernels run in their own sessions: stop any the server left behind
        with contextlib.suppress(Exception):
            child.kill()


@contextlib.contextmanager
def jupyterlab(root: Path, env: Mapping[str, str] | None = None, *, startup_timeout: float = 120.0,
               log: Path | None = None) -> Iterator[LabServer]:  # fmt: skip
    """A JupyterLab server on 127.0.0.1 serving ``root``, with a random token and its own settings; stopped (with
    its kernels) whatever happens. ``env`` adds to the environment of the server and so of its kernels."""
    with tempfile.TemporaryDirectory(prefix="dmm-lab-") as tmp:
        home = Path(tmp)
        write_settings(home / "settings")
        write_overrides(home / "app-settings")
        port, token = free_port(), secrets.token_hex(16)
        environment = {
            **os.environ,
            "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
            "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
            "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
            **(env or {}),
        }
        log = log or home / "server.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "w", encoding="utf-8") as out:
            process = subprocess.Popen(
                lab_command(root, port, token, app_settings=home / "app-settings"), env=environment, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
            server = LabServer(f"http://127.0.0.1:{port}/", token, root, process)
            try:
                _wait_until_up(server, startup_timeout, log)
                yield server
            finally:
                stop(server)


# --------------------------------------------------------------------------------------------------- the page
_PROMPTS_JS = """() => [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')]
  .map(p => p.textContent.trim())"""
_TABLE_JS = """(table) => {
  return [...table.querySelectorAll('tbody tr')].map(tr =>
    [...tr.children].map(cell => cell.textContent.trim()));
}"""


class LabPage:
    """One notebook open in JupyterLab in a Playwright page."""

    def __init__(self, page: Any, server: LabServer) -> None:
        self.page = page
        self.server = server
        self.refused: list[str] = []  #: requests to other hosts, refused (see :func:`browser_page`)

    def open(self, name: str, timeout: float = 120.0) -> None:
        """Open notebook ``name`` (relative to the server's root) and wait for its kernel to be idle."""
        self.page.goto(self.server.notebook_url(name), wait_until="domcontentloaded")
        self.page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=timeout * 1000)
        self.wait_idle(timeout)

    def prompts(self) -> list[str]:
        """The input prompts of every code cell: ``[3]:`` run, ``[*]:`` running or queued, ``[ ]:`` not run."""
        return self.page.evaluate(_PROMPTS_JS)

    def wait_idle(self, timeout: float) -> None:
        """Until the status bar shows the kernel as idle."""
        self.page.locator(".jp-StatusBar-TextItem:has-text('| Idle')").first.wait_for(timeout=timeout * 1000)

    def run_all(self, timeout: float) -> list[str]:
        """Run > Run All Cells, as a student would; wait until no cell is running; return the prompts."""
        self.page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        self.page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
        deadline = time.monotonic() + timeout
        time.sleep(1.0)
        while time.monotonic() < deadline:
            prompts = self.prompts()
            if prompts and not any("*" in p for p in prompts):
                self.wait_idle(max(1.0, deadline - time.monotonic()))
                return self.prompts()
            time.sleep(1.0)
        raise TimeoutError(f"cells still running after {timeout:.0f} s: {self.prompts()}")

    def errors(self) -> list[str]:
        """The text of every error output (a traceback; warnings on stderr are not errors) in the notebook."""
        texts = self.page.locator(f".jp-OutputArea-output[data-mime-type='{STDERR}']").all_text_contents()
        return [text for text in texts if TRACEBACK.search(text)]

    def table(self, scope: Any) -> list[list[str]]:
        """The rows (cell texts, index first) of the first HTML table inside ``scope`` (a locator)."""
        return scope.locator("table").first.evaluate(_TABLE_JS)

    def screenshot(self, path: Path, scope: Any | None = None) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        if scope is not None:
            scope.scroll_into_view_if_needed()
            self.page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        self.page.screenshot(path=str(path))
        return path

    # --- the widgets ------------------------------------------------------------------------------------------
    def explorer(self) -> Any:
        return self.page.locator(EXPLORER).first

    def explorer_readout(self) -> tuple[str, dict[str, str]]:
        """The slider's shown tau and the explorer's table as column -> value."""
        box = self.explorer()
        tau = box.locator(".widget-slider .widget-readout").first.text_content().strip()
        head = [h.strip() for h in box.locator("table thead tr").first.locator("th").all_text_contents()]
        row = self.table(box)[0]  # the index (tau) first, as pandas' to_html writes it
        return tau, dict(zip(["tau", *head[1:]], row))

    def drag_slider(self, dx: float) -> None:
        """Drag the explorer's tau handle ``dx`` pixels with the mouse (negative: to the left)."""
        handle = self.explorer().locator(".widget-slider .noUi-handle").first
        handle.scroll_into_view_if_needed()
        box = handle.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        self.page.mouse.move(x, y)
        self.page.mouse.down()
        self.page.mouse.move(x + dx, y, steps=12)
        self.page.mouse.up()

    def upload(self, photo: Path) -> Any:
        """Click the upload button and choose ``photo`` in the file dialog, as a student does; return its box.

        (ipywidgets 8's FileUpload keeps its file input out of the page and opens it from the button's click.)
        """
        box = self.page.locator(UPLOAD_BOX).first
        box.scroll_into_view_if_needed()
        with self.page.expect_file_chooser() as chooser:
            box.locator(".widget-upload").first.click()
        chooser.value.set_files(str(photo))
        return box


@contextlib.contextmanager
def browser_page(server: LabServer, *, executable: str = CHROMIUM, width: int = 1400,
                 height: int = 1000) -> Iterator[LabPage]:  # fmt: skip
    """A :class:`LabPage` in headless chromium; requests to other hosts are refused (and recorded on ``.refused``)."""
    from playwright.sync_api import sync_playwright

    base = urllib.parse.urlsplit(server.url)

    def route(route: Any) -> None:
        parts = urllib.parse.urlsplit(route.request.url)
        if (parts.scheme, parts.netloc) == (base.scheme, base.netloc) or parts.scheme in ("data", "blob"):
            route.continue_()
        else:
            lab.refused.append(route.request.url)
            route.abort()

    with tempfile.TemporaryDirectory(prefix="dmm-chromium-") as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=executable, headless=True, args=list(CHROMIUM_ARGS),
            viewport={"width": width, "height": height},
        )  # fmt: skip
        try:
            page = context.new_page()
            lab = LabPage(page, server)
            page.route("**/*", route)
            yield lab
        finally:
            context.close()



def main(argv: list[str] | None = None) -> int:
    """``--write-overrides``: put :data:`CLASSROOM_SETTINGS` into this environment's JupyterLab (``make lab``)."""
    args = sys.argv[1:] if argv is None else argv
    if args != ["--write-overrides"]:
        print("usage: python -m dmmlib.suite.lab_browser --write-overrides", file=sys.stderr)
        return 2
    print(f"lab: classroom settings in {write_overrides(app_settings_dir())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
