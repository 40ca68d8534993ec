"""The book: generated from the manifest and one run's results, built without executing, and sound in a browser.

The browser tests build the book from the smoke suite this module executes once (``smoke_suite``),
serve its html folder on a free local port and open every page in Debian's headless chromium.
"""

from __future__ import annotations

import json
import shutil
import types
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from dmmlib.lab import paper
from dmmlib.suite import guide, manifest, paths, pipeline, presets, pretrain
from dmmlib.suite.book import browser, report
from dmmlib.suite.book import build as book
from dmmlib.suite.runner import run_suite

PRESET = "smoke"


# --- the report page (fast: no build) ----------------------------------------------------------------------------


def fake_results(dataset: str = "synthetic CelebA-format data (600 generated images, seed 0)") -> dict:
    first = manifest.load()[0]
    return {
        first.stem: {
            "path": str(paths.runs_dir(PRESET) / "results" / f"{first.stem}.json"),
            "provenance": {"dataset": dataset, "preset": PRESET, "seed": 0, "command": "papermill x.ipynb"},
            "results": {
                "summary": {"mean accuracy (%)": 61.23456, "epochs": 2},
                "tables": {
                    "per attribute": [{"attribute": "Bald", "accuracy": 97.5}, {"attribute": "Young"}]
                },
            },
        }
    }


def test_report_states_dataset_and_preset_first_and_warns_loudly_on_synthetic_data():
    page = report.render(PRESET, manifest.load(), fake_results())
    head = "\n".join(page.splitlines()[:8])
    assert "**Dataset:** synthetic CelebA-format data" in head
    assert "**Preset:** `smoke`" in head
    assert report.SYNTHETIC_WARNING in head


def test_report_has_the_reproducibility_challenge_headings_in_order():
    page = report.render(PRESET, manifest.load(), fake_results())
    headings = [line[3:] for line in page.splitlines() if line.startswith("## ")]
    assert headings == [
        "Scope of reproducibility", "Methodology", "Results", "What was easy", "What was difficult", "Provenance",
    ]  # fmt: skip


def test_report_renders_summary_and_tables_generically():
    page = report.render(PRESET, manifest.load(), fake_results())
    assert "| mean accuracy (%) | 61.2346 |" in page
    assert "| attribute | accuracy |" in page
    assert "| Bald | 97.5 |" in page
    assert "| Young |  |" in page  # a missing cell stays empty


def test_report_marks_notebooks_without_results_as_not_run():
    entries = manifest.load()
    page = report.render(PRESET, entries, {})
    assert page.count("Not run in this build") == len(entries)


def test_report_quotes_paper_numbers_with_their_source():
    page = report.render(PRESET, manifest.load(), {})
    assert "| Proposed dynamic weights (Eq. 4) | 91.70 | 86.56 |" in page
    assert report.TABLE2_SOURCE in page
    rows = paper.dmmcnn_celeba_per_attribute()
    assert len(rows) == 40 and rows["source"].astype(bool).all()
    assert round(rows["accuracy"].mean(), 2) == 91.70


def test_report_on_real_data_carries_no_synthetic_warning():
    page = report.render("paper", manifest.load(), fake_results("real CelebA from /data/celeba"))
    assert report.SYNTHETIC_WARNING not in page
    assert "**Dataset:** real CelebA from /data/celeba" in page


def with_config(results: dict, **config) -> dict:
    """``results`` with a saved training configuration, as notebook 05 records it."""
    next(iter(results.values()))["results"]["config"] = config
    return results


def test_report_names_the_rescaled_eq4_when_a_run_saved_it_in_its_config():
    assert "rescaled to\nmean 1" in report.render("smoke", manifest.load(), with_config(fake_results(), dynamic_normalise=True))
    assert "rescaled to" not in report.render("smoke", manifest.load(), with_config(fake_results(), dynamic_normalise=False))
    paper_run = with_config(fake_results("real CelebA from /data/celeba"), dynamic_normalise=False)
    assert "rescaled to" not in report.render("paper", manifest.load(), paper_run)


def test_report_names_the_initial_weights_each_run_saved_in_its_config(tmp_path):
    paper_run = with_config(fake_results("real CelebA from /data/celeba"), pretrained="imagenet", backbone="resnet50")
    run_dir = tmp_path / "DMM-CNN-0123456789"
    run_dir.mkdir()
    (run_dir / "config.json").write_text('{"pretrained": false, "backbone": "resnet50"}')
    page = report.render("paper", manifest.load(), paper_run, run_configs=report.load_run_configs("paper", tmp_path))
    assert "- ImageNet: torchvision ResNet50_Weights.IMAGENET1K_V1" in page
    assert "- random initialisation (trained from scratch" in page and "`DMM-CNN-0123456789`" in page
    nothing_yet = report.render("paper", manifest.load(), fake_results("real CelebA from /data/celeba"))
    assert "no run saved its configuration yet; the preset sets ImageNet: torchvision" in nothing_yet


def test_markdown_cells_escape_pipes_and_round_floats():
    assert report.format_value("a|b") == "a\\|b"
    assert report.format_value(0.1 + 0.2) == "0.3"
    assert report.format_value({"k": 1}) == '{"k": 1}'


# --- configuration and toc ------------------------------------------------------------------------------------------


def test_config_renders_executed_copies_offline():
    config = yaml.safe_load((book.book_dir() / "_config.yml").read_text())
    assert config["execute"]["execute_notebooks"] in ("off", False)
    assert config["author"] == "the DMM-CNN suite"
    # launch buttons are links only: Binder and Colab, to the repository the instructor sets (no thebe, no CDN)
    buttons = {k: v for k, v in config["launch_buttons"].items() if v and k != "notebook_interface"}
    assert buttons == {"binderhub_url": "https://mybinder.org", "colab_url": "https://colab.research.google.com"}
    assert config["repository"]["url"].startswith("https://github.com/")
    assert config["repository"]["path_to_book"] == "", "pages notebooks/<name> must map to the repository's notebooks/"
    assert not config["html"]["analytics"]["google_analytics_id"]
    mathjax = (
        book.book_dir() / config["sphinx"]["config"]["html_static_path"][0] / "mathjax" / "tex-svg-full.js"
    )
    assert mathjax.is_file(), "MathJax must be vendored: the book may not load it from a CDN"
    assert "sphinx_thebe" not in config["sphinx"]["config"]["extensions"]


def test_toc_lists_intro_the_notebooks_in_manifest_order_and_the_report():
    stems = [e.stem for e in manifest.load()]
    toc = book.toc(stems)
    assert toc["root"] == "intro"
    assert [c["file"] for c in toc["parts"][0]["chapters"]] == [f"notebooks/{s}" for s in stems]
    assert toc["parts"][-1]["chapters"] == [{"file": book.REPORT_STEM}]
    assert toc["parts"][-2]["chapters"] == [{"file": book.GUIDE_STEM}]
    assert book.notebook_stems(toc) == stems


def test_build_refuses_without_executed_notebooks_and_names_make_run(tmp_path, monkeypatch):
    monkeypatch.setenv("DMM_BUILD_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="make run PRESET=smoke"):
        book.build(PRESET, tmp_path / "book")


def _prepared_widget_output(tmp_path, model_id: str, widget_state: dict):
    """One widget view output with ``widget_state`` saved in the metadata, through prepare_notebook."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": widget_state}
    cell = nbformat.v4.new_code_cell("w")
    cell.outputs = [nbformat.v4.new_output("display_data", data={book.WIDGET_MIME: {"model_id": model_id}})]
    nb.cells = [cell]
    nbformat.write(nb, tmp_path / "in.ipynb")
    book.prepare_notebook(tmp_path / "in.ipynb", tmp_path / "out.ipynb")
    return nbformat.read(tmp_path / "out.ipynb", as_version=4)


def test_widget_outputs_become_a_note_and_widget_state_is_dropped(tmp_path):
    out = _prepared_widget_output(tmp_path, "x", {})
    assert "widgets" not in out.metadata
    assert out.cells[0].outputs[0]["data"] == {"text/plain": book.WIDGET_NOTE}


def test_saved_results_in_an_output_become_their_line_of_text_on_the_page(tmp_path):
    import nbformat

    from dmmlib.suite import provenance

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("ctx.save_results(...)")
    data = {provenance.RESULTS_MIME: {"name": "06_run_ablations", "results": {}}, "text/plain": "results saved to x"}
    cell.outputs = [nbformat.v4.new_output("display_data", data=data)]
    nb.cells = [cell]
    nbformat.write(nb, tmp_path / "in.ipynb")
    book.prepare_notebook(tmp_path / "in.ipynb", tmp_path / "out.ipynb")
    out = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    assert out.cells[0].outputs[0]["data"] == {"text/plain": "results saved to x"}


def test_a_tqdm_bar_becomes_its_final_line_from_the_saved_widget_state(tmp_path):
    def model(name, **state):
        return {"model_name": name, "state": state}

    states = {
        "bar": model("HBoxModel", children=["IPY_MODEL_l", "IPY_MODEL_p", "IPY_MODEL_r"]),
        "l": model("HTMLModel", value="DMM-CNN:\u2007100%"),
        "p": model("FloatProgressModel", value=32.0, max=32.0),
        "r": model("HTMLModel", value="\u200732/32\u2007[00:02&lt;00:00,\u200711.61it/s]"),
    }
    out = _prepared_widget_output(tmp_path, "bar", {"state": states})
    assert out.cells[0].outputs[0]["data"] == {"text/plain": "DMM-CNN: 100%| 32/32 [00:02<00:00, 11.61it/s]"}


# --- the built book in a browser ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def smoke_suite(tmp_path_factory):
    """The whole notebook suite executed once with the smoke preset, as ``make run PRESET=smoke`` runs it, in a
    folder of its own (runs and executed notebooks): the book is built from it, and its pretraining is checked.
    Two calls of :func:`dmmlib.suite.runner.run_suite`: first notebooks 05-07, whose runs are trained before them,
    two at once, on an empty runs folder (as ``make run`` trains them before any notebook); then every other
    notebook. It keeps what the first call left before the others add runs of their own: its ``suite.json``
    and the run folders with their completion times."""
    root = tmp_path_factory.mktemp("smoke-suite")
    stems = [entry.stem for entry in manifest.load()]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DMM_RUNS_DIR", str(root / "runs"))
        mp.setenv("DMM_BUILD_DIR", str(root / "build"))
        mp.delenv("DMM_PRESET", raising=False)
        executed = run_suite("smoke", only=list(pretrain.TRAINING_NOTEBOOKS), jobs=2)
        models = root / "runs" / "smoke" / "models"
        after_training = types.SimpleNamespace(
            summary=json.loads((executed / "suite.json").read_text()),
            runs=sorted(p.name for p in models.iterdir()),
            finished=sorted(p.name for p in models.iterdir() if pipeline.is_complete(p) or (p / pipeline.DIVERGED).exists()),
            last_completed=max((p / pipeline.COMPLETE).stat().st_mtime for p in models.iterdir() if pipeline.is_complete(p)),
        )
        run_suite("smoke", only=[s for s in stems if s not in pretrain.TRAINING_NOTEBOOKS], jobs=2)
    return types.SimpleNamespace(
        root=root, runs=root / "runs", build=root / "build", executed=executed, after_training=after_training
    )


@pytest.fixture(scope="module")
def built(chromium, smoke_suite) -> Path:
    """The book built from the smoke suite (:func:`smoke_suite`), in its folder."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DMM_RUNS_DIR", str(smoke_suite.runs))
        mp.setenv("DMM_BUILD_DIR", str(smoke_suite.build))
        assert not book.missing_or_stale(PRESET), "the smoke suite left a notebook unexecuted"
        book.build(PRESET)
        return book.out_root()


# --- the executed suite the book is built from: its runs were trained first, side by side (dmmlib/suite/pretrain.py)
def test_notebooks_05_to_07_find_every_run_trained_and_train_none_themselves(smoke_suite):
    # the suite as 05-07 left it, before later notebooks add runs of their own
    done = smoke_suite.after_training
    record = done.summary[guide.TRAINED_BEFORE]
    expected = pretrain.suite_runs(presets.PRESETS["smoke"])
    assert record["runs"] == len(expected) and record["jobs"] == 2
    assert record["written from their twins' runs"] == 2  # DMM-EQ-FIX and DMM-DW-FIX (dmmlib/suite/twins.py)
    assert len(done.finished) == len(expected), "the notebooks trained a run the pretraining did not list"
    assert done.runs == done.finished
    started = json.loads((smoke_suite.executed / "05_train_dmm_cnn.ipynb").read_text())["metadata"][
        "papermill"
    ]["start_time"]
    assert datetime.fromtimestamp(done.last_completed, UTC) < datetime.fromisoformat(started).astimezone(UTC)


def pages_of(root: Path) -> dict[str, str]:
    toc = book.toc_of(root / "src")
    return browser.expected_pages(root / "src", book.notebook_stems(toc))


def test_built_book_has_every_manifest_notebook_and_the_report(built):
    site = book.site_dir(built)
    assert (site / "index.html").is_file()
    for entry in manifest.load():
        assert (site / "notebooks" / f"{entry.stem}.html").is_file(), f"{entry.file} is not in the book"
    report_html = (site / f"{book.REPORT_STEM}.html").read_text(encoding="utf-8")
    assert report.SYNTHETIC_WARNING in report_html


def test_no_notebook_page_shows_the_colab_install_code(built):
    from dmmlib.suite import colab

    marker = colab.FIRST_LINE.removeprefix("# ").split("(")[0].strip()  # "Colab only: install dmmlib from ..."
    assert marker.startswith("Colab only")
    for entry in manifest.load():
        page = (book.site_dir(built) / "notebooks" / f"{entry.stem}.html").read_text(encoding="utf-8")
        assert marker.replace("'", "&#39;") not in page and marker not in page, f"{entry.stem} shows the install cell"


def test_every_page_passes_the_browser_checks(built, chromium):
    pages = pages_of(built)
    assert all(pages.values()), f"a page has no heading: {pages}"
    shots = built / "screenshots"
    shutil.rmtree(shots, ignore_errors=True)
    with browser.serve(book.site_dir(built)) as url:
        problems = browser.check_site(url, pages, screenshot_dir=shots, executable=chromium)
    assert problems == []
    assert len(list(shots.glob("*.png"))) == len(pages)


@pytest.fixture
def site_copy(built, tmp_path) -> Path:
    copy = tmp_path / "html"
    shutil.copytree(book.site_dir(built), copy)
    return copy


def test_checker_reports_links_to_a_removed_page(built, site_copy, chromium):
    removed = f"notebooks/{manifest.load()[0].stem}.html"
    (site_copy / removed).unlink()
    pages = {k: v for k, v in pages_of(built).items() if k != removed and k != "index.html"}
    with browser.serve(site_copy) as url:
        problems = browser.check_site(url, pages, executable=chromium)
    assert any(removed in p and "HTTP 404" in p for p in problems), problems


def test_checker_reports_a_broken_image(built, site_copy, chromium):
    report_html = (site_copy / f"{book.REPORT_STEM}.html").read_text()
    images = [p for p in sorted((site_copy / "_images").glob("*.png")) if p.name in report_html]
    assert images, "the report page should show at least one figure"
    images[0].write_bytes(b"this is not a PNG")
    with browser.serve(site_copy) as url:
        problems = browser.check_site(url, [f"{book.REPORT_STEM}.html"], executable=chromium)
    assert any("image did not load" in p and images[0].name in p for p in problems), problems


def test_checker_reports_console_errors_and_requests_to_other_hosts(tmp_path, chromium):
    (tmp_path / "page.html").write_text(
        "<html><head><title>A page</title><script src='https://cdn.example.org/x.js'></script></head>"
        "<body><script>console.error('boom')</script><a href='#top'>top</a></body></html>"
    )
    with browser.serve(tmp_path) as url:
        problems = browser.check_site(url, {"page.html": "A page"}, executable=chromium)
    assert any("console: boom" in p for p in problems), problems
    assert any("another host" in p and "cdn.example.org" in p for p in problems), problems
