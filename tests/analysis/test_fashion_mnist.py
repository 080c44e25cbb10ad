"""analysis/ablate/fashion_mnist.py: the real test set, where it is looked for, and damaged files refused."""

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest

from ablate.fashion_mnist import DataError, find_idx_file, kClassNames, load_test_set, locate, read_idx


def test_reads_the_real_test_set():
    test_set = load_test_set()
    assert test_set.images.shape == (10000, 28, 28) and test_set.images.dtype == np.uint8
    # Known facts of Fashion-MNIST's t10k files: 1000 images per class; the first labels.
    assert np.bincount(test_set.labels).tolist() == [1000] * 10
    assert test_set.labels[:5].tolist() == [9, 2, 1, 1, 6]
    assert kClassNames[9] == "Ankle boot" and len(kClassNames) == 10


def test_data_dir_comes_from_the_option_then_the_environment(tmp_path, monkeypatch):
    real = locate()
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        source = Path(find_idx_file(real, name))  # raw or .gz
        shutil.copy(source, copy / source.name)
    monkeypatch.setenv("ABLATE_DATA", str(copy))
    assert locate() == str(copy)
    assert load_test_set().labels.shape == (10000,)
    monkeypatch.setenv("ABLATE_DATA", str(tmp_path / "empty"))
    with pytest.raises(DataError, match="ABLATE_DATA .*empty: lacks t10k-images-idx3-ubyte"):
        locate()
    assert locate(str(copy)) == str(copy)  # --data wins over ABLATE_DATA
    with pytest.raises(DataError, match="--data"):
        locate(str(tmp_path / "nowhere"))


def test_raw_and_gzip_files_read_the_same(tmp_path):
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    raw = b"\x00\x00\x08\x01" + (5).to_bytes(4, "big") + labels.tobytes()
    (tmp_path / "raw").write_bytes(raw)
    (tmp_path / "packed.gz").write_bytes(gzip.compress(raw))
    assert read_idx(str(tmp_path / "raw")).tolist() == [3, 1, 4, 1, 5]
    assert read_idx(str(tmp_path / "packed.gz")).tolist() == [3, 1, 4, 1, 5]


@pytest.mark.parametrize("content, message", [
    (b"\x00\x00\x08\x01" + (6).to_bytes(4, "big") + bytes(5), "declares 6"),
    (b"\x00\x00\x0d\x01" + (1).to_bytes(4, "big") + bytes(4), "element type 0x0d"),
    (b"\x01\x02\x08\x01", "bad magic"),
    (b"\x00\x00\x08\x03\x00", "truncated header"),
])
def test_damaged_files_are_refused(tmp_path, content, message):
    path = tmp_path / "bad"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        read_idx(str(path))
