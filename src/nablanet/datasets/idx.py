"""Reader for the IDX files of MNIST and Fashion-MNIST, plain or gzip-compressed.

An IDX file is a header and then raw big-endian values::

    bytes 0-1   0x00 0x00
    byte  2     type code: 0x08 ubyte, 0x09 byte, 0x0B short, 0x0C int, 0x0D float, 0x0E double
    byte  3     number of dimensions d
    then        d sizes, each a big-endian uint32
    then        prod(sizes) values, row-major

Whether a file is gzip-compressed is decided by its first two bytes (0x1f 0x8b), not its name.
"""

from __future__ import annotations

import gzip
import math
import os
from pathlib import Path
from typing import IO, Any, NoReturn, cast

import numpy as np

__all__ = ["FASHION_MNIST_CLASSES", "load_fashion_mnist", "load_mnist", "read_idx"]

IDX_DTYPES: dict[int, np.dtype[Any]] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
GZIP_MAGIC = b"\x1f\x8b"
FASHION_MNIST_ENV = "NABLANET_FASHION_MNIST"
FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
#: Fashion-MNIST's class names, by label 0..9 (as the data set's README lists them).
FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
_CHUNK = 1 << 22  # read 4 MiB at a time, so a lying header cannot make us allocate more


def _read_exact(f: IO[bytes], n_bytes: int) -> bytearray:
    """Read up to ``n_bytes`` from ``f`` in chunks; shorter only if the file ends first."""
    buf = bytearray()
    while len(buf) < n_bytes:
        chunk = f.read(min(_CHUNK, n_bytes - len(buf)))
        if not chunk:
            break
        buf += chunk
    return buf


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read one IDX file into an array of native byte order.

    Parameters
    ----------
    path : str or path-like
        The file, plain or gzip-compressed.

    Returns
    -------
    ndarray of shape given by the header (e.g. (60000, 28, 28) for images, (60000,) for labels)
        dtype uint8, int8, int16, int32, float32 or float64 as the type code says.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the magic number is wrong, the type code unknown, the header says 0 dimensions, or the
        data is shorter (truncated) or longer than the header says.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"IDX file not found: {str(path)!r}")
    with open(path, "rb") as raw:
        compressed = raw.read(2) == GZIP_MAGIC
    try:
        with gzip.open(path, "rb") if compressed else open(path, "rb") as f:
            return _parse_idx(cast(IO[bytes], f), path, compressed)
    except (OSError, EOFError) as exc:  # a corrupt gzip stream
        if isinstance(exc, FileNotFoundError):
            raise
        raise ValueError(f"{str(path)!r} is not a readable IDX file: {exc}") from exc


def _parse_idx(f: IO[bytes], path: Path, compressed: bool) -> np.ndarray:
    name = repr(str(path))
    magic = f.read(4)
    if len(magic) < 4:
        raise ValueError(f"{name} is too short to be an IDX file ({len(magic)} header bytes)")
    if magic[0] != 0 or magic[1] != 0:
        raise ValueError(
            f"{name} is not an IDX file: it must start with bytes 00 00, got {magic[:2].hex(' ')}"
        )
    type_code, ndim = magic[2], magic[3]
    if type_code not in IDX_DTYPES:
        known = ", ".join(f"0x{code:02X}" for code in IDX_DTYPES)
        raise ValueError(
            f"{name} has unknown IDX type code 0x{type_code:02X}; expected one of {known}"
        )
    if ndim < 1:
        raise ValueError(f"{name} has an IDX header with 0 dimensions; at least 1 is needed")
    dims_raw = f.read(4 * ndim)
    if len(dims_raw) < 4 * ndim:
        raise ValueError(
            f"{name} is truncated inside its header: expected {4 * ndim} bytes of sizes for "
            f"{ndim} dimensions, got {len(dims_raw)}"
        )
    shape = tuple(int(d) for d in np.frombuffer(dims_raw, dtype=">u4"))
    dtype = IDX_DTYPES[type_code]
    expected = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
    if not compressed:  # check the size before reading anything
        actual = path.stat().st_size - 4 - 4 * ndim
        if actual != expected:
            _raise_size(name, shape, expected, actual)
    data = _read_exact(f, expected)
    if len(data) < expected:
        _raise_size(name, shape, expected, len(data))
    if f.read(1):
        raise ValueError(
            f"{name} has more data than its header describes (shape {shape}, "
            f"{expected} bytes); the file is not a valid IDX file"
        )
    arr = np.frombuffer(data, dtype=dtype).reshape(shape)
    return arr.astype(dtype.newbyteorder("="))


def _raise_size(name: str, shape: tuple[int, ...], expected: int, actual: int) -> NoReturn:
    what = "truncated" if actual < expected else "longer than its header says"
    raise ValueError(
        f"{name} is {what}: the header says shape {shape}, i.e. {expected} data bytes, "
        f"but the file has {actual}"
    )


def _find(directory: Path, stem: str) -> Path | None:
    """The file ``stem`` or ``stem.gz`` in ``directory`` (also the ``train-images.idx3-ubyte``
    spelling some MNIST mirrors use), or None."""
    dotted = stem.replace("-idx", ".idx")
    for candidate in (stem, stem + ".gz", dotted, dotted + ".gz"):
        if (directory / candidate).is_file():
            return directory / candidate
    return None


def _load_split(
    directory: Path, prefix: str, flatten: bool, hint: str
) -> tuple[np.ndarray, np.ndarray]:
    images_stem = f"{prefix}-images-idx3-ubyte"
    labels_stem = f"{prefix}-labels-idx1-ubyte"
    images_path, labels_path = _find(directory, images_stem), _find(directory, labels_stem)
    if images_path is None or labels_path is None:
        missing = [s for s, p in ((images_stem, images_path), (labels_stem, labels_path)) if not p]
        raise FileNotFoundError(
            f"{' and '.join(m + '(.gz)' for m in missing)} not found in {str(directory)!r}; {hint}"
        )
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.dtype != np.uint8 or images.ndim != 3:
        raise ValueError(
            f"{str(images_path)!r} should hold uint8 images of shape (n, rows, cols), "
            f"got {images.dtype} of shape {images.shape}"
        )
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise ValueError(
            f"{str(labels_path)!r} should hold uint8 labels of shape (n,), "
            f"got {labels.dtype} of shape {labels.shape}"
        )
    if images.size == 0:  # an empty split: nothing to train or test on
        raise ValueError(
            f"{str(images_path)!r} holds no pixels: its header says shape {images.shape} "
            f"(images, rows, columns); the {prefix} split needs at least one image of at "
            "least one pixel"
        )
    if len(images) != len(labels):
        raise ValueError(
            f"{str(images_path)!r} has {len(images)} images but {str(labels_path)!r} has "
            f"{len(labels)} labels"
        )
    X = images.astype(np.float32)
    X /= 255.0
    if flatten:
        X = X.reshape(len(X), -1)
    return X, labels.astype(np.int64)


def _load_directory(
    directory: Path, flatten: bool, hint: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    if not isinstance(flatten, bool):
        raise TypeError(f"flatten must be True or False, got {flatten!r}")
    if not directory.is_dir():
        raise FileNotFoundError(f"directory {str(directory)!r} does not exist; {hint}")
    X_train, y_train = _load_split(directory, "train", flatten, hint)
    X_test, y_test = _load_split(directory, "t10k", flatten, hint)
    if X_train.shape[1:] != X_test.shape[1:]:
        raise ValueError(
            f"training images have shape {X_train.shape[1:]} but test images {X_test.shape[1:]}"
        )
    return X_train, y_train, X_test, y_test


def load_fashion_mnist(
    path: str | os.PathLike[str] | None = None, flatten: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fashion-MNIST (Zalando): 28x28 grey images of 10 kinds of clothing, 60000 + 10000.

    Looks in ``path`` if given, else in ``$NABLANET_FASHION_MNIST``, else in
    ``/usr/share/datasets/fashion-mnist`` (Debian/Ubuntu: ``apt-get install
    dataset-fashion-mnist``), for ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
    ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``, each optionally ``.gz``.

    Parameters
    ----------
    path : str or path-like, optional
        Directory holding the four files.
    flatten : bool
        If True, each image becomes a row of 784 pixels.

    Returns
    -------
    X_train : ndarray of shape (60000, 784) or (60000, 28, 28), float32 in [0, 1]
    y_train : ndarray of shape (60000,), int64 in 0..9
    X_test : ndarray of shape (10000, 784) or (10000, 28, 28), float32 in [0, 1]
    y_test : ndarray of shape (10000,), int64 in 0..9
        Label ``k`` is the class ``FASHION_MNIST_CLASSES[k]`` ("T-shirt/top", "Trouser", ...).
    """
    if path is not None:
        directory, origin = Path(path), "path="
    elif os.environ.get(FASHION_MNIST_ENV):
        directory, origin = Path(os.environ[FASHION_MNIST_ENV]), f"${FASHION_MNIST_ENV}"
    else:
        directory, origin = FASHION_MNIST_DIR, "the default location"
    hint = (
        f"looked in {str(directory)!r} (from {origin}). Get Fashion-MNIST with "
        "`apt-get install dataset-fashion-mnist` (Debian/Ubuntu), or download the four "
        "*-ubyte.gz files from https://github.com/zalandoresearch/fashion-mnist and pass "
        f"path= or set ${FASHION_MNIST_ENV}"
    )
    return _load_directory(directory, flatten, hint)


def load_mnist(
    path: str | os.PathLike[str], flatten: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MNIST handwritten digits from a directory holding its four IDX files.

    The files are named as in :func:`load_fashion_mnist` (``train-images-idx3-ubyte[.gz]``
    etc.); MNIST is not bundled, so ``path`` is required.

    Parameters
    ----------
    path : str or path-like
    flatten : bool

    Returns
    -------
    X_train : ndarray of shape (60000, 784) or (60000, 28, 28), float32 in [0, 1]
    y_train : ndarray of shape (60000,), int64 in 0..9
    X_test : ndarray of shape (10000, 784) or (10000, 28, 28), float32 in [0, 1]
    y_test : ndarray of shape (10000,), int64 in 0..9
    """
    if path is None:
        raise TypeError("load_mnist needs path=, the directory holding the MNIST IDX files")
    hint = (
        f"looked in {str(path)!r}. Download train-images-idx3-ubyte.gz, "
        "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz "
        "from an MNIST mirror into that directory"
    )
    return _load_directory(Path(path), flatten, hint)
