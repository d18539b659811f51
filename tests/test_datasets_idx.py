"""Tests for nablanet.datasets.idx: the IDX reader and the (Fashion-)MNIST loaders."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from nablanet.datasets import load_dataset, load_fashion_mnist, load_mnist, read_idx

REAL_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")

# type code -> big-endian dtype, written out from the IDX specification
CODES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def idx_bytes(arr: np.ndarray, code: int = 0x08, shape: tuple[int, ...] | None = None) -> bytes:
    """Encode ``arr`` by hand: 00 00 <code> <ndim>, the sizes as big-endian uint32, the data."""
    shape = arr.shape if shape is None else shape
    header = bytes([0, 0, code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)
    return header + arr.astype(CODES[code]).tobytes()


def write(path: Path, data: bytes, compress: bool = False) -> Path:
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


# ---------------------------------------------------------------- read_idx


@pytest.mark.parametrize("code", sorted(CODES))
@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_every_type_plain_and_gzip(tmp_path: Path, code: int, compress: bool) -> None:
    values = np.array([[[0, 1, 2], [3, 4, 5]], [[6, 7, 8], [9, 10, 127]]])
    if code in (0x09, 0x0B, 0x0C, 0x0D, 0x0E):
        values = values - 5  # signed types get negative values too
    path = write(tmp_path / "data.idx", idx_bytes(values, code), compress)
    arr = read_idx(path)
    assert arr.shape == (2, 2, 3)
    assert arr.dtype == np.dtype(CODES[code]).newbyteorder("=")
    np.testing.assert_array_equal(arr, values)


def test_read_idx_one_dimension_and_empty(tmp_path: Path) -> None:
    arr = read_idx(write(tmp_path / "labels", idx_bytes(np.array([3, 1, 4, 1, 5]))))
    np.testing.assert_array_equal(arr, [3, 1, 4, 1, 5])
    empty = read_idx(write(tmp_path / "empty", idx_bytes(np.zeros((0, 4)))))
    assert empty.shape == (0, 4)


def test_gzip_is_detected_by_content_not_name(tmp_path: Path) -> None:
    data = idx_bytes(np.arange(6).reshape(2, 3))
    np.testing.assert_array_equal(
        read_idx(write(tmp_path / "a.idx", data, True)), [[0, 1, 2], [3, 4, 5]]
    )
    np.testing.assert_array_equal(
        read_idx(write(tmp_path / "b.gz", data, False)), [[0, 1, 2], [3, 4, 5]]
    )


@pytest.mark.parametrize("compress", [False, True])
def test_truncated_file_names_expected_and_actual_sizes(tmp_path: Path, compress: bool) -> None:
    data = idx_bytes(np.zeros((10, 4, 4)))  # 160 data bytes
    path = write(tmp_path / "cut.idx", data[:-7], compress)
    with pytest.raises(ValueError, match=r"cut\.idx.*truncated.*160.*153"):
        read_idx(path)


def test_header_claiming_huge_data_fails_fast(tmp_path: Path) -> None:
    # 4e9 x 4e9 ubytes announced, 3 bytes present: nothing of that size may be allocated
    header = bytes([0, 0, 0x08, 2]) + struct.pack(">2I", 4_000_000_000, 4_000_000_000)
    with pytest.raises(ValueError, match="truncated"):
        read_idx(write(tmp_path / "liar.idx", header + b"abc"))
    with pytest.raises(ValueError, match="truncated"):
        read_idx(write(tmp_path / "liar.gz", header + b"abc", compress=True))


@pytest.mark.parametrize("compress", [False, True])
def test_extra_data_is_refused(tmp_path: Path, compress: bool) -> None:
    data = idx_bytes(np.zeros(4)) + b"\x00\x00"
    with pytest.raises(ValueError, match=r"longer|more data"):
        read_idx(write(tmp_path / "long.idx", data, compress))


def test_bad_headers(tmp_path: Path) -> None:
    good = idx_bytes(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="00 00, got 01 00"):
        read_idx(write(tmp_path / "magic", b"\x01" + good[1:]))
    with pytest.raises(ValueError, match="type code 0x0A"):
        read_idx(write(tmp_path / "code", good[:2] + b"\x0a" + good[3:]))
    with pytest.raises(ValueError, match="0 dimensions"):
        read_idx(write(tmp_path / "ndim", bytes([0, 0, 8, 0])))
    with pytest.raises(ValueError, match="inside its header"):
        read_idx(write(tmp_path / "dims", bytes([0, 0, 8, 3, 0, 0, 0, 2])))
    with pytest.raises(ValueError, match="too short"):
        read_idx(write(tmp_path / "empty", b""))
    with pytest.raises(ValueError, match="not a readable IDX"):
        read_idx(write(tmp_path / "badgz", b"\x1f\x8b" + b"garbage" * 10))


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nowhere\.idx"):
        read_idx(tmp_path / "nowhere.idx")


# ---------------------------------------------------------------- (Fashion-)MNIST loaders


def make_mnist_dir(
    directory: Path, n_train: int = 6, n_test: int = 4, n_train_labels: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Tiny 4x4 'MNIST' files: train gzipped, test plain. Returns the train images and labels."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(n_train, 4, 4))
    labels = np.arange(n_train_labels if n_train_labels is not None else n_train) % 10
    labels[-1] = 9
    write(directory / "train-images-idx3-ubyte.gz", idx_bytes(images), compress=True)
    write(directory / "train-labels-idx1-ubyte.gz", idx_bytes(labels), compress=True)
    write(
        directory / "t10k-images-idx3-ubyte", idx_bytes(rng.integers(0, 256, size=(n_test, 4, 4)))
    )
    write(directory / "t10k-labels-idx1-ubyte", idx_bytes(np.arange(n_test) % 10))
    return images, labels


def test_load_fashion_mnist_from_path(tmp_path: Path) -> None:
    images, labels = make_mnist_dir(tmp_path)
    X_train, y_train, X_test, y_test = load_fashion_mnist(tmp_path)
    assert X_train.shape == (6, 16) and X_test.shape == (4, 16)
    assert X_train.dtype == np.float32 and y_train.dtype == np.int64
    np.testing.assert_allclose(X_train, images.reshape(6, 16) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y_train, labels)
    np.testing.assert_array_equal(y_test, [0, 1, 2, 3])
    X_train, _, X_test, _ = load_fashion_mnist(tmp_path, flatten=False)
    assert X_train.shape == (6, 4, 4) and X_test.shape == (4, 4, 4)


def test_load_fashion_mnist_from_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_mnist_dir(tmp_path / "fm")
    monkeypatch.setenv("NABLANET_FASHION_MNIST", str(tmp_path / "fm"))
    X_train, _, _, _ = load_fashion_mnist()
    assert X_train.shape == (6, 16)
    ds = load_dataset("fashion-mnist", seed=0)
    assert ds.X_train.shape == (6, 16) and ds.X_test.shape == (4, 16)
    assert ds.task == "multiclass" and ds.n_classes == 10


def test_load_fashion_mnist_missing_says_where_and_how(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist") as info:
        load_fashion_mnist(tmp_path)
    assert str(tmp_path) in str(info.value)
    assert "train-images-idx3-ubyte" in str(info.value)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_fashion_mnist(tmp_path / "absent")


def test_image_label_count_mismatch(tmp_path: Path) -> None:
    make_mnist_dir(tmp_path, n_train=6, n_train_labels=5)
    with pytest.raises(ValueError, match=r"6 images but .* 5 labels"):
        load_fashion_mnist(tmp_path)


def test_wrong_image_dtype_is_refused(tmp_path: Path) -> None:
    make_mnist_dir(tmp_path)
    images = np.zeros((4, 4, 4))
    write(tmp_path / "t10k-images-idx3-ubyte", idx_bytes(images, code=0x0C))
    with pytest.raises(ValueError, match="uint8 images"):
        load_fashion_mnist(tmp_path)


def test_load_mnist_needs_a_directory(tmp_path: Path) -> None:
    make_mnist_dir(tmp_path)
    X_train, y_train, _, _ = load_mnist(tmp_path)
    assert X_train.shape == (6, 16) and y_train.dtype == np.int64
    with pytest.raises(FileNotFoundError, match="MNIST"):
        load_mnist(tmp_path / "absent")


@pytest.mark.skipif(not REAL_FASHION_MNIST.is_dir(), reason="Fashion-MNIST is not installed")
def test_real_fashion_mnist() -> None:
    X_train, y_train, X_test, y_test = load_fashion_mnist(REAL_FASHION_MNIST)
    assert X_train.shape == (60000, 784) and X_test.shape == (10000, 784)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    assert X_train.dtype == np.float32 and y_train.dtype == np.int64
    assert X_train.min() == 0.0 and X_train.max() == 1.0
    assert 0.0 <= X_test.min() and X_test.max() <= 1.0
    np.testing.assert_array_equal(np.bincount(y_train), [6000] * 10)
    np.testing.assert_array_equal(np.bincount(y_test), [1000] * 10)
