"""make_tiny_data.py: writes a tiny Fashion-MNIST-shaped data set for the cluster tests.

Usage: make_tiny_data.py DIR [TRAIN_IMAGES] [TEST_IMAGES]
Writes DIR/{train,t10k}-{images-idx3,labels-idx1}-ubyte (raw IDX, the four names ablate
looks for): 28x28 images of ten classes, each class a fixed random pattern plus noise, so a
model learns something in one epoch. The same arguments always give the same bytes, so that
every rank of every node and every rerun trains on identical data, and no test depends on
the real data set being installed.
"""
import pathlib
import struct
import sys

import numpy as np


def write_idx(path, array):
    dims = array.shape
    header = struct.pack(">BBBB", 0, 0, 0x08, len(dims)) + b"".join(struct.pack(">I", d) for d in dims)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def make_split(rng, templates, count):
    labels = rng.integers(0, 10, size=count)
    noise = rng.normal(0.0, 90.0, size=(count, 28, 28))
    images = np.clip(templates[labels] + noise, 0, 255)
    return images.astype(np.uint8), labels.astype(np.uint8)


def main(directory, train_images=3000, test_images=1000):
    out = pathlib.Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20)
    templates = rng.uniform(110, 146, size=(10, 28, 28))
    for prefix, count in (("train", train_images), ("t10k", test_images)):
        images, labels = make_split(rng, templates, count)
        write_idx(out / f"{prefix}-images-idx3-ubyte", images)
        write_idx(out / f"{prefix}-labels-idx1-ubyte", labels)


if __name__ == "__main__":
    main(sys.argv[1], *(int(a) for a in sys.argv[2:4]))
