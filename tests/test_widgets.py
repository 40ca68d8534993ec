"""The pure functions behind the notebook explorers, and the widgets' first render."""

from __future__ import annotations

import datetime

import ipywidgets
import numpy as np
import pytest
import torch
import torchvision

from dmmlib.lab import widgets


@pytest.mark.parametrize("size", [(218, 178), (96, 80), (64, 52), (33, 47)])
def test_trunk_map_size_matches_a_real_resnet(size):
    resnet = torchvision.models.resnet18()
    trunk = torch.nn.Sequential(*list(resnet.children())[:-2]).eval()
    with torch.no_grad():
        shape = trunk(torch.zeros(1, 3, *size)).shape[-2:]
    assert widgets.trunk_map_size(*size) == tuple(shape)


def test_spp_table_totals_the_paper_subjective_vector():
    table = widgets.spp_table(218, 178, levels=3, channels=2048)
    assert table.loc["total", "features"] == 28_672  # (1 + 4 + 9) x 2048, FACTS section 1


def test_threshold_sweep_counts_by_hand():
    outputs = np.array([0.9, 0.2, -0.1, -0.8, 0.0])
    labels = np.array([1, -1, 1, -1, 1])
    row = widgets.threshold_sweep(outputs, labels, [0.0]).iloc[0]
    # predicted positive: 0.9, 0.2 (0.0 is not > 0.0) -> TP 1, FP 1, FN 2, TN 1
    assert (row.FP, row.FN) == (1, 2)
    assert row.accuracy == pytest.approx(2 / 5)
    assert row["balanced accuracy"] == pytest.approx((1 / 3 + 1 / 2) / 2)


def test_uploaded_bytes_reads_the_ipywidgets8_value():
    upload = ipywidgets.FileUpload()
    assert widgets.uploaded_bytes(upload) is None
    upload.value = ({"name": "me.jpg", "type": "image/jpeg", "size": 3, "content": memoryview(b"abc"),
                     "last_modified": datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)},)  # fmt: skip
    assert widgets.uploaded_bytes(upload) == b"abc"


def test_an_empty_upload_is_a_clear_error():
    upload = ipywidgets.FileUpload()
    upload.value = ({"name": "empty.jpg", "type": "image/jpeg", "size": 0, "content": memoryview(b""),
                     "last_modified": datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)},)  # fmt: skip
    with pytest.raises(ValueError, match="'empty.jpg' is empty"):
        widgets.uploaded_bytes(upload)


def test_explorers_render_without_a_front_end():
    assert isinstance(widgets.spp_explorer(), ipywidgets.VBox)
    rng = np.random.default_rng(0)
    outputs, labels = rng.normal(size=(20, 40)), np.where(rng.random((20, 40)) < 0.3, 1, -1)
    assert isinstance(widgets.threshold_explorer(outputs, labels), ipywidgets.VBox)


def test_explorers_show_their_first_table_without_an_output_widget():
    explorer = widgets.spp_explorer(218, 178, levels=3, channels=2048)
    table = explorer.children[1]
    assert isinstance(table, ipywidgets.HTML) and "28672" in table.value
    slider = explorer.children[0].children[2]
    slider.value = 1
    assert "2048" in table.value and "28672" not in table.value
