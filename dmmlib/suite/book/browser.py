"""Check a built book in a headless browser.

:func:`check_site` opens pages of a served site with Debian's headless chromium (through Playwright) and returns
the problems it sees: bad titles, images that did not load, same-site links that do not answer 200, console
errors and requests that leave the machine. :func:`check_built` serves a built book and checks every page of its
table of contents.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import re
import sys
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import nbformat

from dmmlib.suite.book.build import GUIDE_STEM, REPORT_STEM, notebook_stems, out_root, site_dir, toc_of

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)  # fmt: skip


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        pass


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A browser closing a connection early (an aborted image, a navigation) is normal.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextlib.contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve ``directory`` on a free port of 127.0.0.1 in a thread; yield its base URL (ending in /)."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = _QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def page_heading(path: Path) -> str:
    """The first ``# `` heading of a markdown page or of a notebook's markdown cells ("" when none)."""
    if path.suffix == ".ipynb":
        nb = nbformat.read(path, as_version=4)
        texts = [c.source for c in nb.cells if c.cell_type == "markdown"]
    else:
        texts = [path.read_text(encoding="utf-8")]
    for text in texts:
        for line in text.splitlines():
            if line.startswith("# "):
                return line[2:].strip().replace("`", "")
    return ""


def _plain(text: str) -> str:
    """``text`` with Sphinx's typographic quotes and dashes (smartquotes) turned back into plain ASCII."""
    # single and double quotes (left, right), en and em dashes
    return text.translate(str.maketrans("\u2018\u2019\u201c\u201d\u2013\u2014", "''\"\"--"))


def expected_pages(src: Path, stems: Sequence[str]) -> dict[str, str]:
    """Site path -> expected heading in its title, for every page of a staged book."""
    pages = {"index.html": page_heading(src / "intro.md"), "intro.html": page_heading(src / "intro.md")}
    for stem in stems:
        pages[f"notebooks/{stem}.html"] = page_heading(src / "notebooks" / f"{stem}.ipynb")
    if (src / f"{GUIDE_STEM}.md").is_file():
        pages[f"{GUIDE_STEM}.html"] = page_heading(src / f"{GUIDE_STEM}.md")
    pages[f"{REPORT_STEM}.html"] = page_heading(src / f"{REPORT_STEM}.md")
    return pages


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except urllib.error.URLError:
        return 0


def http_text(url: str) -> str:
    """The body of ``url`` as text ("" when it does not answer 200)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.read().decode("utf-8", errors="replace")
    except (urllib.error.URLError, OSError):
        return ""


_PAGE_STATE_JS = """() => ({
  title: document.title,
  links: [...document.querySelectorAll('a[href]')].filter(a => !a.getAttribute('href').startsWith('#'))
           .map(a => a.href)
         .concat([...document.querySelectorAll('link[href]')].map(l => l.href))
         .concat([...document.querySelectorAll('script[src]')].map(s => s.src)),
})"""
_REFRESH = re.compile(r"<meta[^>]+http-equiv=.refresh.[^>]+url=([^\"'>]+)", re.IGNORECASE)
_IMAGES_READY_JS = "() => [...document.images].every(i => i.complete)"
_BROKEN_IMAGES_JS = (
    "() => [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"
)


def _keep_console_error(message: Any, *, out: list[str]) -> None:
    """Record a console message of the error type."""
    if message.type == "error":
        out.append(message.text)


def _keep_page_error(error: Any, *, out: list[str]) -> None:
    """Record an exception that the page did not catch."""
    out.append(f"uncaught: {error}")


def _route_locally(route: Any, *, same_site: Any, out: list[str]) -> None:
    """Let same-site requests through; abort and record any other (the book must work offline)."""
    url = route.request.url
    if same_site(url) or url.startswith(("data:", "blob:", "about:")):
        route.continue_()
    else:
        out.append(f"request to another host (the book must work offline): {url}")
        route.abort()


def check_site(
    base_url: str,
    pages: Mapping[str, str] | Sequence[str],
    *,
    screenshot_dir: Path | None = None,
    executable: str = CHROMIUM,
) -> list[str]:
    """Open each page of a served site in headless chromium; return the problems found (empty when all is well).

    ``pages`` maps a site path (``"intro.html"``) to the text its title must contain ("" for any non-empty
    title); a plain list of paths asks only for a non-empty title. For each page: the HTTP status, the title, every
    ``<img>`` loaded (``naturalWidth > 0``), every same-site link, stylesheet and script answering 200 (links to
    anchors of the same page are skipped), no console errors or uncaught exceptions, and no request to another
    host. Screenshots go to ``screenshot_dir`` when given.
    """
    from playwright.sync_api import sync_playwright

    if not isinstance(pages, Mapping):
        pages = dict.fromkeys(pages, "")
    base = urllib.parse.urlsplit(base_url)
    problems: list[str] = []
    statuses: dict[str, int] = {}
    if screenshot_dir:
        screenshot_dir.mkdir(parents=True, exist_ok=True)

    def same_site(url: str) -> bool:
        parts = urllib.parse.urlsplit(url)
        return (parts.scheme, parts.netloc) == (base.scheme, base.netloc)

    with tempfile.TemporaryDirectory(prefix="dmm-chromium-") as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=executable, headless=True, args=list(CHROMIUM_ARGS)
        )
        try:
            for path, expected in pages.items():
                page = context.new_page()
                messages: list[str] = []
                page.on("console", functools.partial(_keep_console_error, out=messages))
                page.on("pageerror", functools.partial(_keep_page_error, out=messages))

                page.route("**/*", functools.partial(_route_locally, same_site=same_site, out=messages))
                url = urllib.parse.urljoin(base_url, path)
                redirect = _REFRESH.search(http_text(url))
                response = page.goto(url, wait_until="load")
                if response is None or response.status != 200:
                    problems.append(f"{path}: HTTP {response.status if response else 'no response'}")
                    page.close()
                    continue
                if redirect:  # a redirect page (index.html): check the page it leads to
                    page.wait_for_url(urllib.parse.urljoin(url, redirect.group(1).strip()), wait_until="load")
                state = page.evaluate(_PAGE_STATE_JS)
                page.evaluate("() => document.querySelectorAll('img').forEach(i => i.loading = 'eager')")
                page.wait_for_function(_IMAGES_READY_JS, timeout=15_000)
                title = state["title"].strip()
                if (
                    not title
                    or "404" in title
                    or "error" in title.lower()
                    or _plain(expected) not in _plain(title)
                ):
                    problems.append(f"{path}: title {title!r} does not contain {expected!r}")
                for src in page.evaluate(_BROKEN_IMAGES_JS):
                    problems.append(f"{path}: image did not load: {src}")
                for link in dict.fromkeys(state["links"]):
                    target = urllib.parse.urldefrag(link).url
                    if not same_site(target):
                        continue
                    if target not in statuses:
                        statuses[target] = http_status(target)
                    if statuses[target] != 200:
                        problems.append(f"{path}: link {target} answers HTTP {statuses[target]}")
                problems.extend(f"{path}: console: {m}" for m in messages)
                if screenshot_dir:
                    name = path.replace("/", "__").removesuffix(".html") + ".png"
                    page.screenshot(path=str(screenshot_dir / name), full_page=True)
                page.close()
        finally:
            context.close()
    return problems


def check_built(root: Path | None = None) -> list[str]:
    """Serve a built book and check every page of its toc (screenshots to ``build/book/screenshots``)."""
    root = root or out_root()
    stems = notebook_stems(toc_of(root / "src"))
    with serve(site_dir(root)) as url:
        return check_site(url, expected_pages(root / "src", stems), screenshot_dir=root / "screenshots")
