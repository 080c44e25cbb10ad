"""The Fashion-MNIST test set, read from its IDX files (raw or gzip), found the way ablate finds it."""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass

import numpy as np

kClassNames = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
kDebianDir = "/usr/share/datasets/fashion-mnist"
kLocalDir = "data"
kTestImages = "t10k-images-idx3-ubyte"
kTestLabels = "t10k-labels-idx1-ubyte"
# IDX magic: two zero bytes, the element type (0x08 = unsigned byte), the number of dimensions.
kUnsignedByte = 0x08


class DataError(ValueError):
    """The data set is missing or malformed; the message names the file and how to fix it."""


@dataclass
class TestSet:
    images: np.ndarray  # uint8 [n, 28, 28]
    labels: np.ndarray  # int64 [n]
    dir: str


def find_idx_file(directory: str, name: str) -> str:
    for candidate in (os.path.join(directory, name), os.path.join(directory, name + ".gz")):
        if os.path.isfile(candidate):
            return candidate
    return ""


def locate(data_dir: str | None = None) -> str:
    """--data, else $ABLATE_DATA, else the Debian package's directory, else ./data (as `ablate` does)."""
    explicit = [("--data", data_dir), ("ABLATE_DATA", os.environ.get("ABLATE_DATA"))]
    for source, directory in explicit:
        if directory:
            missing = [n for n in (kTestImages, kTestLabels) if not find_idx_file(directory, n)]
            if missing:
                raise DataError(f"{source} {directory}: lacks {', '.join(m + '(.gz)' for m in missing)}; "
                                f"point it at the Fashion-MNIST directory")
            return directory
    for directory in (kDebianDir, kLocalDir):
        if find_idx_file(directory, kTestImages) and find_idx_file(directory, kTestLabels):
            return directory
    raise DataError(f"Fashion-MNIST not found (--data not given, ABLATE_DATA not set, nothing in {kDebianDir} "
                    f"or ./{kLocalDir}); `apt-get install dataset-fashion-mnist` or pass --data DIR")


def read_idx(path: str) -> np.ndarray:
    """An unsigned-byte IDX array, shape from its header; refuses truncated or mislabelled files."""
    with open(path, "rb") as raw:
        head = raw.read(2)
    opener = gzip.open if head == b"\x1f\x8b" else open
    try:
        with opener(path, "rb") as stream:
            data = stream.read()
    except (OSError, EOFError) as error:
        raise DataError(f"{path}: cannot read ({error}); the file is damaged")
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise DataError(f"{path}: not an IDX file (bad magic number)")
    if data[2] != kUnsignedByte:
        raise DataError(f"{path}: element type 0x{data[2]:02x}, expected unsigned bytes (0x08)")
    rank = data[3]
    header = 4 + 4 * rank
    if len(data) < header:
        raise DataError(f"{path}: truncated header")
    dims = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(rank))
    size = int(np.prod(dims)) if dims else 0
    if len(data) != header + size:
        raise DataError(f"{path}: holds {len(data) - header} data bytes but its header (dimensions {dims}) "
                        f"declares {size}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def load_test_set(data_dir: str | None = None) -> TestSet:
    directory = locate(data_dir)
    images = read_idx(find_idx_file(directory, kTestImages))
    labels = read_idx(find_idx_file(directory, kTestLabels)).astype(np.int64)
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise DataError(f"{directory}: test images {images.shape} and labels {labels.shape} do not match")
    if labels.size and labels.max() >= len(kClassNames):
        raise DataError(f"{directory}: label {labels.max()} is not a Fashion-MNIST class (0..9)")
    return TestSet(images, labels, directory)
