"""Build the Jupyter Book from executed notebooks, and check the built site in a headless browser.

``python -m dmmlib.suite.book build --preset smoke`` stages ``build/book/src/`` (the pages of ``book/``, the executed
notebooks of ``build/executed/<preset>/``, a generated replication report and a ``_toc.yml`` generated from
``notebooks/manifest.yml``) and runs ``jupyter-book build`` with warnings as errors. It never executes a notebook:
when ``build/executed/<preset>/`` is missing it says to run ``make run PRESET=<preset>`` first. The site ends up at
``build/book/html/index.html``.

:func:`check_site` opens pages of a served site with Debian's headless chromium (through Playwright) and returns
the problems it sees: bad titles, images that did not load, same-site links that do not answer 200, console
errors and requests that leave the machine.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import html
import http.server
import json
import re
import shutil
import subprocess
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
import yaml

from dmmlib.suite import manifest, paths, presets, report

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)  # fmt: skip
REPORT_STEM = "replication_report"
FIGURE = "figures/paper_per_attribute.png"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = "[interactive widget: open this notebook in JupyterLab to use it]"


def book_dir() -> Path:
    """The tracked sources of the book (config and prose pages)."""
    return paths.repo_root() / "book"


def out_root() -> Path:
    return paths.build_dir() / "book"


def executed_dir(preset: str) -> Path:
    return paths.build_dir() / "executed" / preset


def site_dir(root: Path | None = None) -> Path:
    """Where the built site lives: ``build/book/html`` (open ``index.html``)."""
    return (root or out_root()) / "html"


def missing_or_stale(
    preset: str, entries: Sequence[manifest.NotebookEntry] | None = None
) -> list[manifest.NotebookEntry]:
    """Manifest notebooks with no executed copy for ``preset``, or whose source is newer than that copy."""
    found = []
    for entry in entries if entries is not None else manifest.load():
        copy = executed_dir(preset) / entry.file
        if not copy.is_file() or copy.stat().st_mtime < entry.path.stat().st_mtime:
            found.append(entry)
    return found


def toc(notebook_stems: Sequence[str]) -> dict[str, Any]:
    """The Jupyter Book 1.x table of contents: intro, the notebooks in manifest order, the report."""
    parts = []
    if notebook_stems:
        parts.append(
            {"caption": "Notebooks", "chapters": [{"file": f"notebooks/{s}"} for s in notebook_stems]}
        )
    parts.append({"caption": "Replication", "chapters": [{"file": REPORT_STEM}]})
    return {"format": "jb-book", "root": "intro", "parts": parts}


def progress_bar_text(model_id: str, states: Mapping[str, Any]) -> str | None:
    """The final line of a tqdm notebook progress bar (an HBox of HTML, FloatProgress, HTML) from the saved
    widget state, e.g. ``DMM-CNN: 100%| 32/32 [00:02<00:00, 11.6it/s]``; None for any other widget."""
    box = states.get(model_id, {})
    children = [
        states.get(str(c).removeprefix("IPY_MODEL_"), {}) for c in box.get("state", {}).get("children", [])
    ]
    kinds = [child.get("model_name") for child in children]
    if box.get("model_name") != "HBoxModel" or kinds != ["HTMLModel", "FloatProgressModel", "HTMLModel"]:
        return None
    left, right = (
        html.unescape(children[k]["state"].get("value", "")).replace("\u2007", " ") for k in (0, 2)
    )
    return f"{left}|{right}".strip()


def prepare_notebook(source: Path, target: Path) -> None:
    """Copy an executed notebook for the static book: widget views become text, widget state is dropped.

    Widget views need ipywidgets' JavaScript (from a CDN) and a live kernel; a static page can do neither. A
    tqdm progress bar becomes its final line (read from the saved widget state); any other widget, a note.
    """
    nb = nbformat.read(source, as_version=4)
    saved = nb.metadata.pop("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    states = saved.get("state", {}) if isinstance(saved, dict) else {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_MIME in data:
                bar = progress_bar_text(str(data[WIDGET_MIME].get("model_id", "")), states)
                output["data"] = {"text/plain": bar or WIDGET_NOTE}
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)


def git_commit() -> str:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=paths.repo_root(),
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return ""
    return result.stdout.strip()


def stage(preset: str, src: Path | None = None) -> tuple[Path, list[str]]:
    """Lay out the build source folder; return it and the stems of the notebooks it holds."""
    src = src or out_root() / "src"
    if src.exists():
        shutil.rmtree(src)
    shutil.copytree(
        book_dir(),
        src,
        ignore=shutil.ignore_patterns("_build", "_toc.yml", "__pycache__", ".ipynb_checkpoints"),
    )
    entries = manifest.load()
    stems = []
    for entry in entries:
        copy = executed_dir(preset) / entry.file
        if copy.is_file():
            prepare_notebook(copy, src / "notebooks" / entry.file)
            stems.append(entry.stem)
    results = report.load_results(preset)
    suite_json = executed_dir(preset) / "suite.json"
    suite_summary = json.loads(suite_json.read_text(encoding="utf-8")) if suite_json.is_file() else None
    report.paper_figure(src / FIGURE)
    page = report.render(
        preset,
        entries,
        results,
        executed=stems,
        suite_summary=suite_summary,
        figure=FIGURE,
        commit=git_commit(),
    )
    (src / f"{REPORT_STEM}.md").write_text(page, encoding="utf-8")
    (src / "_toc.yml").write_text(yaml.safe_dump(toc(stems), sort_keys=False), encoding="utf-8")
    return src, stems


def build(preset: str, root: Path | None = None) -> Path:
    """Stage and build the book for ``preset`` from its executed notebooks; return ``.../html/index.html``."""
    root = root or out_root()
    if not executed_dir(preset).is_dir():
        raise FileNotFoundError(
            f"no executed notebooks for preset {preset!r} in {executed_dir(preset)}: "
            f"run `make run PRESET={preset}` first (the book never executes notebooks)"
        )
    src, stems = stage(preset, root / "src")
    for entry in missing_or_stale(preset):
        print(f"note: {entry.file} is missing or older than its source in {executed_dir(preset)}", flush=True)
    work = root / "work"
    if work.exists():
        shutil.rmtree(work)  # a full build each time: the site is moved out of work/ afterwards
    command = [
        str(Path(sys.executable).with_name("jupyter-book")), "build", str(src), "--path-output", str(work),
        "--builder", "html", "-W", "-n", "--keep-going",
    ]  # fmt: skip
    print(f"Building the book for preset {preset!r} ({len(stems)} notebook(s))", flush=True)
    completed = subprocess.run(command, cwd=src)
    if completed.returncode != 0:
        raise RuntimeError(f"jupyter-book build failed (exit {completed.returncode}); see the warnings above")
    site = site_dir(root)
    if site.exists():
        shutil.rmtree(site)
    (work / "_build" / "html").rename(site)
    return site / "index.html"


# --- checking a served site -------------------------------------------------------------------------------------


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
    return text.translate(str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                                         "\u2013": "-", "\u2014": "-"}))  # fmt: skip


def expected_pages(src: Path, stems: Sequence[str]) -> dict[str, str]:
    """Site path -> expected heading in its title, for every page of a staged book."""
    pages = {"index.html": page_heading(src / "intro.md"), "intro.html": page_heading(src / "intro.md")}
    for stem in stems:
        pages[f"notebooks/{stem}.html"] = page_heading(src / "notebooks" / f"{stem}.ipynb")
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
                page.on("console", lambda m, out=messages: out.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e, out=messages: out.append(f"uncaught: {e}"))

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


def check_built(preset: str, root: Path | None = None) -> list[str]:
    """Serve a built book and check every page of its toc (screenshots to ``build/book/screenshots``)."""
    root = root or out_root()
    stems = [f["file"].split("/", 1)[1] for p in toc_of(root / "src")["parts"][:-1] for f in p["chapters"]]
    with serve(site_dir(root)) as url:
        return check_site(url, expected_pages(root / "src", stems), screenshot_dir=root / "screenshots")


def toc_of(src: Path) -> dict[str, Any]:
    toc_data = yaml.safe_load((src / "_toc.yml").read_text(encoding="utf-8"))
    if not toc_data["parts"] or toc_data["parts"][-1]["caption"] != "Replication":
        raise ValueError(f"{src / '_toc.yml'} was not generated by dmmlib.suite.book")
    return toc_data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dmmlib.suite.book", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("build", "stage and build the book from build/executed/<preset>/"),
        ("check", "check the built book in headless chromium"),
        ("resolve", "print the concrete preset name (auto resolved)"),
    ):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("--preset", default=presets.AUTO, help="smoke | teach | paper | auto (default)")
        cmd.add_argument("--data-dir", default="", help="real CelebA root (for resolving auto)")
    args = parser.parse_args(argv)
    try:
        name = presets.resolve_name(args.preset, args.data_dir)
    except ValueError as error:
        parser.error(str(error))
    if args.command == "resolve":
        print(name)
        return 0
    if args.command == "check":
        problems = check_built(name)
        print("\n".join(problems) or f"all pages of {site_dir()} passed")
        return 1 if problems else 0
    try:
        index = build(name)
    except FileNotFoundError as error:
        print(f"make book: {error}", file=sys.stderr)
        return 2
    except RuntimeError as error:
        print(f"make book: {error}", file=sys.stderr)
        return 1
    print(f"The book is at {index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
