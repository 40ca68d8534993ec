"""The LFWA annotation files (``lfw_att_40.mat``, ``indices_train_test.mat``): readers and writers.

Torch-free, so that the synthetic generator can write them without importing torch. Formats: see
:mod:`dmmlib.data.lfwa`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import h5py
import numpy as np

from dmmlib.attributes import ATTRIBUTES
from dmmlib.data.errors import DataFormatError, DatasetNotFoundError
from dmmlib.files.filecheck import check_download, damaged

_MATLAB_HEADER = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created by: dmmlib.data.lfwa HDF5 schema 1.00 ."


# ----------------------------------------------------------------------------------------------------- reading
def _open_mat(path: Path) -> h5py.File:
    if not path.is_file():
        raise DatasetNotFoundError(f"{path}: file not found")
    check_download(path, "a MATLAB file")
    if not h5py.is_hdf5(path):
        raise DataFormatError(
            path, "not a MATLAB v7.3 (HDF5) file", hint="Expected the lfw_att_40.mat released with CelebA"
        )
    try:
        return h5py.File(path, "r")
    except OSError as exc:  # an HDF5 signature, but the file is cut short or damaged
        raise damaged(path, "MATLAB v7.3 (HDF5) file", exc) from None


def _cell_strings(f: h5py.File, key: str, path: Path) -> list[str]:
    if key not in f:
        raise DataFormatError(
            path, f"has no variable {key!r} (found {sorted(k for k in f if k != '#refs#')})"
        )
    strings = []
    for ref in f[key][()].ravel():
        codes = f[ref][()]
        strings.append("".join(map(chr, np.asarray(codes).ravel())))
    return strings


def read_lfw_att_40(path: str | os.PathLike[str]) -> tuple[list[str], list[str], np.ndarray]:
    """-> (attribute names, image paths with forward slashes, labels (N, 40) int8 +1/-1)."""
    path = Path(path)
    with _open_mat(path) as f:
        try:
            names = _cell_strings(f, "AttrName", path)
            images = [p.replace("\\", "/") for p in _cell_strings(f, "name", path)]
            if "label" not in f:
                raise DataFormatError(path, "has no variable 'label'")
            label = np.asarray(f["label"][()])
        except (OSError, KeyError) as exc:  # h5py reading past the end of a truncated file
            raise damaged(path, "MATLAB v7.3 (HDF5) file", exc) from None
    k, n = len(names), len(images)
    if label.shape == (k, n):  # MATLAB's N x K, transposed on disk
        label = label.T
    elif label.shape != (n, k):
        raise DataFormatError(
            path, f"'label' has shape {label.shape}; expected {k} x {n} (attributes x images)"
        )
    if not np.isin(label, (0, 1, -1)).all():
        bad = np.argwhere(~np.isin(label, (0, 1, -1)))[0]
        raise DataFormatError(
            path, f"label {label[tuple(bad)]:g} of {names[bad[1]]} for {images[bad[0]]} is not 0 or 1"
        )
    return names, images, np.where(label > 0, 1, -1).astype(np.int8)


def read_indices(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """``indices_train_test.mat`` (v5 or v7.3) -> (train, test) 0-based int64 indices."""
    path = Path(path)
    keys = ("indices_img_train", "indices_img_test")
    if not path.is_file():
        raise DatasetNotFoundError(f"{path}: file not found")
    check_download(path, "a MATLAB file")
    if h5py.is_hdf5(path):
        try:
            with h5py.File(path, "r") as f:
                found = {k: np.asarray(f[k][()]) for k in keys if k in f}
                available = sorted(f)
        except (OSError, KeyError) as exc:
            raise damaged(path, "MATLAB v7.3 (HDF5) file", exc) from None
    else:
        import scipy.io

        try:
            mat = scipy.io.loadmat(path)
        except (ValueError, TypeError, OSError, EOFError) as exc:
            raise damaged(path, "MATLAB file (v5 or v7.3)", exc) from None
        found = {k: np.asarray(mat[k]) for k in keys if k in mat}
        available = sorted(k for k in mat if not k.startswith("__"))
    missing = [k for k in keys if k not in found]
    if missing:
        raise DataFormatError(path, f"has no variable {missing[0]!r} (found {available})")
    out = []
    for k in keys:
        values = found[k].ravel()
        if values.size and (values.min() < 1 or not np.all(values == np.round(values))):
            raise DataFormatError(path, f"{k} must hold 1-based integer indices, found {values.min():g}")
        out.append(values.astype(np.int64) - 1)
    return out[0], out[1]


# ----------------------------------------------------------------------------------------------------- writing
def _atomic_h5(path: Path, fill, userblock: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        with h5py.File(tmp, "w", userblock_size=512 if userblock else 0, track_order=False) as f:
            fill(f)
        if userblock:
            with open(tmp, "r+b") as handle:
                header = _MATLAB_HEADER.ljust(116, b" ") + b"\0" * 8 + b"\x00\x02" + b"IM"
                handle.write(header)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _matlab(ds: h5py.Dataset, cls: str) -> h5py.Dataset:
    ds.attrs["MATLAB_class"] = np.bytes_(cls)
    return ds


def _cell(f: h5py.File, key: str, strings: Sequence[str], shape: tuple[int, int]) -> None:
    refs = f.require_group("#refs#")
    ref_list = []
    for text in strings:
        ds = refs.create_dataset(
            f"{key}_{len(refs)}", data=np.array([ord(c) for c in text], np.uint16).reshape(-1, 1)
        )
        _matlab(ds, "char").attrs["MATLAB_int_decode"] = np.int32(2)
        ref_list.append(ds.ref)
    _matlab(f.create_dataset(key, data=np.array(ref_list, dtype=h5py.ref_dtype).reshape(shape)), "cell")


def write_lfw_att_40(
    path: str | os.PathLike[str],
    image_names: Sequence[str],
    labels: np.ndarray,
    attribute_names: Sequence[str] = ATTRIBUTES,
) -> None:
    """Write ``lfw_att_40.mat`` in the released v7.3 structure (labels bool or +1/-1, (N, 40); names with ``\\``)."""
    labels = np.asarray(labels)
    positive = labels > 0

    def fill(f: h5py.File) -> None:
        _cell(f, "AttrName", attribute_names, (len(attribute_names), 1))  # MATLAB 1 x 40, transposed
        _cell(f, "name", image_names, (1, len(image_names)))  # MATLAB N x 1, transposed
        _matlab(f.create_dataset("label", data=positive.T.astype(np.float64)), "double")

    _atomic_h5(Path(path), fill, userblock=True)


def write_indices(
    path: str | os.PathLike[str], train: np.ndarray, test: np.ndarray, fmt: str = "v7.3"
) -> None:
    """Write ``indices_train_test.mat`` with 1-based ``train`` / ``test`` column vectors, as v7.3 or v5."""
    path = Path(path)
    data = {"indices_img_train": np.asarray(train, np.float64).reshape(-1, 1),
            "indices_img_test": np.asarray(test, np.float64).reshape(-1, 1)}  # fmt: skip
    if fmt == "v5":
        import scipy.io

        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        try:
            scipy.io.savemat(tmp, data, format="5")
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    elif fmt == "v7.3":
        _atomic_h5(
            path, lambda f: [_matlab(f.create_dataset(k, data=v.T), "double") for k, v in data.items()], True
        )
    else:
        raise ValueError(f"indices format must be 'v7.3' or 'v5', got {fmt!r}")
