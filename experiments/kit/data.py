"""Data sets, generated or read from local packages; never downloaded at run time.

| name          | source                                                    | input shape |
|---------------|-----------------------------------------------------------|-------------|
| gaussian      | x ~ N(0, I_d), labels from a random linear teacher         | (d,)        |
| xor           | four Gaussian blobs at (+-1, +-1), label = sign(x1*x2)    | (2,)        |
| two_moons     | scikit-learn's ``make_moons`` (generated)                  | (2,)        |
| digits        | scikit-learn's shipped 8x8 digits (1797 images)           | (8, 8, 1)   |
| mnist1d       | ``mnist1d.data.make_dataset`` (generated locally)          | (40, 1)     |
| fashion_mnist | Debian package ``dataset-fashion-mnist`` or $FASHION_MNIST_DIR | (28, 28, 1) |

``scaling`` sets the input range (claim E2): ``raw`` (pixels as stored: 0..255 for
fashion_mnist, 0..16 for digits), ``unit`` ([0, 1]), ``centred`` ([0, 1] minus the training
mean per feature) and ``standardised`` (zero mean, unit variance per feature; the default).
``shift`` adds a constant after scaling (LeCun et al. 1998's shifted-input argument).
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
import os
import zlib
from pathlib import Path

import numpy as np


class DataMissing(FileNotFoundError):
    """A data set that is not installed; the message says how to install it."""


class DataError(ValueError):
    """A data set whose files are there but cannot be used (empty, truncated, not idx files)."""


@dataclasses.dataclass(frozen=True)
class Dataset:
    """Arrays in float32 (inputs) and int32 (labels); ``x`` has shape (n, *input_shape)."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    @property
    def n_features(self) -> int:
        return int(np.prod(self.input_shape))


SCALINGS = ("raw", "unit", "centred", "standardised")
# Training examples of the generated and shipped data sets (n minus the n // 5 test split; digits
# keeps 497 of its 1797 for test; mnist1d's 5000 split 0.8). tests/test_bad_input.py checks them.
TRAIN_SIZES = {"gaussian": 3277, "xor": 1639, "two_moons": 1639, "digits": 1300, "mnist1d": 4000}
FASHION_DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"


def names() -> list[str]:
    """Names accepted by :func:`load`."""
    return sorted(_LOADERS)


def _split(x: np.ndarray, y: np.ndarray, n_test: int, seed: int):
    order = np.random.default_rng(seed).permutation(len(x))
    test, train = order[:n_test], order[n_test:]
    return x[train], y[train], x[test], y[test]


def _gaussian(seed: int, n: int = 4096, dim: int = 32, n_classes: int = 2):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, dim)).astype(np.float32)
    teacher = rng.standard_normal((dim, n_classes))
    y = np.argmax(x @ teacher, axis=1)
    return (*_split(x, y, n // 5, seed), n_classes, None)


def _xor(seed: int, n: int = 2048, noise: float = 0.25):
    rng = np.random.default_rng(seed)
    centres = rng.choice([-1.0, 1.0], size=(n, 2))
    x = (centres + noise * rng.standard_normal((n, 2))).astype(np.float32)
    y = (centres[:, 0] * centres[:, 1] > 0).astype(np.int32)
    return (*_split(x, y, n // 5, seed), 2, None)


def _two_moons(seed: int, n: int = 2048, noise: float = 0.1):
    from sklearn.datasets import make_moons

    x, y = make_moons(n_samples=n, noise=noise, random_state=seed)
    return (*_split(x.astype(np.float32), y, n // 5, seed), 2, None)


def _digits(seed: int):
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = bunch.images.astype(np.float32)[..., None]
    return (*_split(x, bunch.target, 497, 0), 10, 16.0)


def _mnist1d(seed: int):
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.seed = 42  # the benchmark's own fixed generation seed: every run sees the same data
    data = make_dataset(args)
    x = data["x"].astype(np.float32)[..., None]
    x_test = data["x_test"].astype(np.float32)[..., None]
    return x, data["y"], x_test, data["y_test"], 10, None


IDX_TYPES = {0x08: np.uint8}  # the idx type codes Fashion-MNIST uses (unsigned bytes)
FASHION_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def _idx_header(path: Path, head: bytes) -> tuple[int, ...]:
    """The dimensions an idx header declares; DataError if it is not an idx header of bytes."""
    if len(head) < 4 or head[0] != 0 or head[1] != 0 or head[2] not in IDX_TYPES or not 1 <= head[3] <= 4:
        raise DataError(f"{path} is not an idx file of unsigned bytes (header {head[:4].hex() or 'empty'}); "
                        "reinstall dataset-fashion-mnist or point FASHION_MNIST_DIR at intact idx files")
    ndim = head[3]
    if len(head) < 4 + 4 * ndim:
        raise DataError(f"{path} is truncated (its idx header is incomplete)")
    return tuple(int.from_bytes(head[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))


def idx_shape(path: Path) -> tuple[int, ...]:
    """The shape an idx file holds, checked against its size without reading it (gzip: its trailer)."""
    try:
        with gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb") as f:
            head = f.read(20)
        dims = _idx_header(path, head)
        expected = 4 + 4 * len(dims) + int(np.prod(dims))
        if path.suffix == ".gz":
            with open(path, "rb") as f:
                f.seek(-4, os.SEEK_END)
                size = int.from_bytes(f.read(4), "little")  # ISIZE: the uncompressed size mod 2**32
            expected %= 1 << 32
        else:
            size = path.stat().st_size
    except (OSError, EOFError, zlib.error) as err:
        raise DataError(f"{path} cannot be read ({type(err).__name__}: {err}); reinstall dataset-fashion-mnist") from None
    if size != expected:
        raise DataError(f"{path} holds {size} bytes, its header promises {expected} (truncated or padded); "
                        "reinstall dataset-fashion-mnist or point FASHION_MNIST_DIR at intact idx files")
    return dims


def _read_idx(path: Path) -> np.ndarray:
    dims = idx_shape(path)
    try:
        with gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as err:
        raise DataError(f"{path} cannot be read ({type(err).__name__}: {err}); reinstall dataset-fashion-mnist") from None
    offset = 4 + 4 * len(dims)
    if len(raw) != offset + int(np.prod(dims)):
        raise DataError(f"{path} holds {len(raw)} bytes, its header promises {offset + int(np.prod(dims))}")
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(dims)


def _find_idx(folder: Path, stem: str) -> Path:
    for candidate in (folder / f"{stem}.gz", folder / stem):
        if candidate.exists():
            return candidate
    raise DataMissing(
        f"fashion_mnist not found in {folder}: run `apt-get install dataset-fashion-mnist` "
        "(or `make data`), or set FASHION_MNIST_DIR to a folder holding its idx files"
    )


def _fashion_folder() -> Path:
    return Path(os.environ.get("FASHION_MNIST_DIR", FASHION_DEFAULT_DIR))


def _fashion_shapes() -> list[tuple[int, ...]]:
    """The shapes of the four idx files, checked to fit together (images n x h x w, labels n)."""
    folder = _fashion_folder()
    paths = [_find_idx(folder, stem) for stem in FASHION_FILES]
    shapes = [idx_shape(p) for p in paths]
    for (images, labels), (p_img, p_lab) in zip(((shapes[0], shapes[1]), (shapes[2], shapes[3])),
                                                 ((paths[0], paths[1]), (paths[2], paths[3])), strict=True):
        if len(images) != 3 or len(labels) != 1 or images[0] != labels[0] or images[0] == 0:
            raise DataError(f"{p_img} ({'x'.join(map(str, images))}) and {p_lab} ({'x'.join(map(str, labels))}) "
                            "are not images and labels of the same examples")
    return shapes


def check(name: str) -> None:
    """Raise :class:`DataMissing` or :class:`DataError` (one line) unless ``name`` can be loaded.

    Cheap: generated and shipped data sets need nothing; Fashion-MNIST's idx files are checked by
    their headers and sizes, without decompressing them.
    """
    if name not in _LOADERS:
        raise ValueError(f"unknown data set {name!r}; valid names: {', '.join(names())}")
    if name == "fashion_mnist":
        _fashion_shapes()


def train_size(name: str) -> int:
    """How many training examples :func:`load` gives for ``name`` before any ``n_train`` subsampling."""
    if name == "fashion_mnist":
        return _fashion_shapes()[0][0]
    return TRAIN_SIZES[name]


def _fashion_mnist(seed: int):
    folder = _fashion_folder()
    parts = [
        _read_idx(_find_idx(folder, stem))
        for stem in (
            "train-images-idx3-ubyte",
            "train-labels-idx1-ubyte",
            "t10k-images-idx3-ubyte",
            "t10k-labels-idx1-ubyte",
        )
    ]
    x, y, x_test, y_test = parts
    return (
        x.astype(np.float32)[..., None],
        y,
        x_test.astype(np.float32)[..., None],
        y_test,
        10,
        255.0,
    )


_LOADERS = {
    "gaussian": _gaussian,
    "xor": _xor,
    "two_moons": _two_moons,
    "digits": _digits,
    "mnist1d": _mnist1d,
    "fashion_mnist": _fashion_mnist,
}


@functools.lru_cache(maxsize=16)
def _raw(name: str, seed: int):
    return _LOADERS[name](seed)


def _scale(x, x_ref, scaling: str, full_scale):
    if scaling == "raw":
        return x
    if scaling == "unit":
        lo, hi = (0.0, full_scale) if full_scale else (x_ref.min(), x_ref.max())
        return (x - lo) / (hi - lo)
    unit_ref = x_ref / full_scale if full_scale else x_ref
    unit_x = x / full_scale if full_scale else x
    mean = unit_ref.mean(axis=0)
    if scaling == "centred":
        return unit_x - mean
    std = unit_ref.std(axis=0)
    return (unit_x - mean) / np.where(std > 1e-8, std, 1.0)


def load(
    name: str,
    n_train: int | None = None,
    n_test: int | None = None,
    scaling: str = "standardised",
    shift: float = 0.0,
    seed: int = 0,
) -> Dataset:
    """Load data set ``name``; subsample ``n_train``/``n_test`` (fixed by ``seed``) and scale it.

    Raises ``ValueError`` for an unknown name or scaling and :class:`DataMissing` (with the
    install command) for a data set that is not on this machine.
    """
    if name not in _LOADERS:
        raise ValueError(f"unknown data set {name!r}; valid names: {', '.join(names())}")
    if scaling not in SCALINGS:
        raise ValueError(f"unknown scaling {scaling!r}; valid: {', '.join(SCALINGS)}")
    x, y, x_test, y_test, n_classes, full_scale = _raw(name, seed)
    rng = np.random.default_rng(seed + 1)
    if n_train is not None and n_train < len(x):
        keep = rng.permutation(len(x))[:n_train]
        x, y = x[keep], y[keep]
    if n_test is not None and n_test < len(x_test):
        keep = rng.permutation(len(x_test))[:n_test]
        x_test, y_test = x_test[keep], y_test[keep]
    x_s = _scale(x, x, scaling, full_scale) + shift
    x_test_s = _scale(x_test, x, scaling, full_scale) + shift
    return Dataset(
        name=name,
        x_train=np.ascontiguousarray(x_s, dtype=np.float32),
        y_train=np.asarray(y, dtype=np.int32),
        x_test=np.ascontiguousarray(x_test_s, dtype=np.float32),
        y_test=np.asarray(y_test, dtype=np.int32),
        n_classes=int(n_classes),
    )
