"""Bundled German credit data; MNIST / Fashion-MNIST IDX reading (real files when present, synthetic ones always)."""

import gzip
import importlib.resources
from pathlib import Path

import numpy as np
import pytest

from chainrule.data import datasets
from chainrule.data.datasets import make_german_credit
from chainrule.errors import DataError

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
MNIST = SHARED / "mnist"
GERMAN = SHARED / "german_credit" / "german.data"


# ---- German credit -----------------------------------------------------------------------------


def test_german_credit_table():
    t = datasets.german_credit()
    assert len(t) == 1000 and len(t.columns) == 21
    assert t.columns[0] == "checking_account" and t.columns[-1] == "credit_risk"
    risk = t["credit_risk"].tolist()
    assert risk.count("good") == 700 and risk.count("bad") == 300
    numeric = [c for c in t.columns if t.kind(c) == "numeric"]
    assert numeric == [
        "duration_months", "credit_amount", "installment_rate", "residence_since", "age", "existing_credits",
        "people_liable",
    ]  # fmt: skip
    assert set(t["checking_account"]) == {"< 0 DM", "0 <= ... < 200 DM", "no checking account",
                                          ">= 200 DM / salary assignments for at least 1 year"}  # fmt: skip
    assert "car (new)" in set(t["purpose"]) and set(t["foreign_worker"]) == {"yes", "no"}
    codes = [v for c in t.columns if t.kind(c) == "text" for v in t[c] if v[:1] == "A" and v[1:].isdigit()]
    assert codes == []  # no raw UCI codes left
    assert t["age"][0] == 67 and t["credit_amount"][0] == 1169  # first row of german.numpy()


def test_german_credit_ships_as_package_data():
    res = importlib.resources.files("chainrule.data.datasets")
    assert res.joinpath("german_credit.csv").is_file() and res.joinpath("README.md").is_file()
    assert datasets.german_credit_path().is_file()
    readme = res.joinpath("README.md").read_text(encoding="utf-8")
    assert "Hans Hofmann" in readme and "CC BY 4.0" in readme and "UCI Machine Learning Repository" in readme


@pytest.mark.skipif(not GERMAN.is_file(), reason=f"the original {GERMAN} is not present")
def test_bundled_csv_is_the_conversion_of_the_original(tmp_path):
    out = tmp_path / "g.csv"
    assert make_german_credit.convert(GERMAN, out) == 1000
    assert out.read_bytes() == datasets.german_credit_path().read_bytes()


def test_conversion_rejects_unknown_codes(tmp_path):
    src = tmp_path / "g.data"
    src.write_text("A19 6 A34 A43 1169 A65 A75 4 A93 A101 4 A121 67 A143 A152 2 A173 1 A192 A201 1\n")
    with pytest.raises(ValueError, match="line 1: unknown code 'A19' for column checking_account"):
        make_german_credit.convert(src, tmp_path / "o.csv")


# ---- MNIST (real files) ------------------------------------------------------------------------


@pytest.mark.skipif(not MNIST.is_dir(), reason=f"no MNIST folder at {MNIST}")
def test_mnist_real_files():
    for split, n, counts in [
        ("train", 60000, [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]),
        ("test", 10000, [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]),
    ]:
        images, labels = datasets.mnist(MNIST, split=split)
        assert images.shape == (n, 28, 28) and images.dtype == np.uint8
        assert labels.shape == (n,) and labels.dtype == np.int64
        assert np.bincount(labels).tolist() == counts
        assert images.max() == 255 and images.min() == 0


# ---- IDX files (synthetic) ---------------------------------------------------------------------


def idx_bytes(arr, magic):
    arr = np.asarray(arr, dtype=np.uint8)
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    return header + arr.tobytes()


def make_pair(root, prefix="train", n=3, gz=False, images=None, labels=None):
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, size=(n, 28, 28)) if images is None else images
    lab = np.arange(n) % 10 if labels is None else labels
    files = {f"{prefix}-images-idx3-ubyte": idx_bytes(img, 2051), f"{prefix}-labels-idx1-ubyte": idx_bytes(lab, 2049)}
    for name, data in files.items():
        if gz:
            (root / (name + ".gz")).write_bytes(gzip.compress(data))
        else:
            (root / name).write_bytes(data)
    return np.asarray(img, np.uint8), np.asarray(lab)


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("loader", [datasets.mnist, datasets.fashion_mnist])
def test_idx_plain_and_gzipped(tmp_path, gz, loader):
    img, lab = make_pair(tmp_path, "t10k", n=4, gz=gz)
    images, labels = loader(tmp_path, split="test")
    np.testing.assert_array_equal(images, img)
    np.testing.assert_array_equal(labels, lab)
    assert images.dtype == np.uint8 and labels.dtype == np.int64 and images.flags.writeable


def test_missing_folder_names_the_expected_files(tmp_path):
    with pytest.raises(DataError, match=r"mnist: no folder .*nowhere; it should hold train-images-idx3-ubyte\.gz"):
        datasets.mnist(tmp_path / "nowhere")


def test_missing_file_is_named(tmp_path):
    make_pair(tmp_path, "train")
    (tmp_path / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError, match=r"fashion_mnist: .* has no train-labels-idx1-ubyte\.gz or train-labels-idx1"):
        datasets.fashion_mnist(tmp_path)
    with pytest.raises(DataError, match=r"has no t10k-images-idx3-ubyte\.gz"):
        datasets.mnist(tmp_path, split="test")


def test_bad_split(tmp_path):
    with pytest.raises(DataError, match="split must be 'train' or 'test', got 'val'"):
        datasets.mnist(tmp_path, split="val")


def test_swapped_files_fail_on_the_magic_number(tmp_path):
    make_pair(tmp_path)
    a, b = tmp_path / "train-images-idx3-ubyte", tmp_path / "train-labels-idx1-ubyte"
    da, db = a.read_bytes(), b.read_bytes()
    a.write_bytes(db)
    b.write_bytes(da)
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte: magic number 2049 where 2051 was expected"):
        datasets.mnist(tmp_path)


def test_not_an_idx_file(tmp_path):
    make_pair(tmp_path)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"GIF89a....")
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte: not an IDX file \(magic number 0x47494638\)"):
        datasets.mnist(tmp_path)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"\0\0")
    with pytest.raises(DataError, match="too short for a header"):
        datasets.mnist(tmp_path)


def test_truncated_and_overlong_files(tmp_path):
    make_pair(tmp_path)
    p = tmp_path / "train-images-idx3-ubyte"
    data = p.read_bytes()
    p.write_bytes(data[:-10])
    with pytest.raises(DataError, match=r"file is truncated: header gives shape \(3, 28, 28\) \(2368 bytes\), the file"
                                         r" has 2358 bytes"):  # fmt: skip
        datasets.mnist(tmp_path)
    p.write_bytes(data + b"\0")
    with pytest.raises(DataError, match="file is longer than its header says"):
        datasets.mnist(tmp_path)


def test_corrupt_gzip(tmp_path):
    make_pair(tmp_path, gz=True)
    p = tmp_path / "train-images-idx3-ubyte.gz"
    p.write_bytes(p.read_bytes()[:50])
    with pytest.raises(
        DataError, match=r"train-images-idx3-ubyte\.gz: cannot read the file \(corrupt or truncated gzip"
    ):
        datasets.mnist(tmp_path)


def test_counts_and_label_range(tmp_path):
    make_pair(tmp_path, n=3, labels=np.array([0, 1]))
    with pytest.raises(DataError, match="train-images-idx3-ubyte holds 3 images but train-labels-idx1-ubyte holds 2"):
        datasets.mnist(tmp_path)
    make_pair(tmp_path, n=2, labels=np.array([0, 12]))
    with pytest.raises(DataError, match=r"label 12 outside 0\.\.9"):
        datasets.mnist(tmp_path)


def test_read_idx_other_types(tmp_path):
    p = tmp_path / "x.idx"
    arr = np.arange(6, dtype=">i4").reshape(2, 3)
    p.write_bytes(bytes([0, 0, 0x0C, 2]) + (2).to_bytes(4, "big") + (3).to_bytes(4, "big") + arr.tobytes())
    out = datasets.read_idx(p)
    np.testing.assert_array_equal(out, np.arange(6).reshape(2, 3))
    assert out.dtype == np.int32 and out.dtype.isnative
    with pytest.raises(DataError, match="no such file"):
        datasets.read_idx(tmp_path / "none")
