import subprocess
import sys
from pathlib import Path

import pytest
import torch

from probgen.data import (
    TensorLoader,
    binarize_images,
    dataset_info,
    list_datasets,
    load_dataset,
    make_loader,
)
from probgen.errors import DatasetUnavailableError


def test_mnist5k_test_split_shape_range_and_labels():
    x, y = load_dataset("mnist-5k", split="test")
    assert x.shape == (1000, 1, 28, 28) and x.dtype == torch.float32
    assert 0.0 <= float(x.min()) and float(x.max()) <= 1.0 and float(x.max()) == 1.0
    assert y.shape == (1000,) and y.dtype == torch.int64
    assert torch.equal(torch.bincount(y), torch.full((10,), 100))


def test_mnist5k_splits_are_disjoint_and_complete():
    tr, te = load_dataset("mnist-5k", "train"), load_dataset("mnist-5k", "test")
    assert len(tr.images) == 4000 and torch.equal(torch.bincount(tr.labels), torch.full((10,), 400))
    flat = torch.cat([tr.images, te.images]).flatten(1)
    # no example is in both (MNIST has few exact duplicates)
    assert torch.unique(flat, dim=0).shape[0] >= 4990


def test_split_is_fixed_across_loads():
    a, b = load_dataset("mnist-5k", "test"), load_dataset("mnist-5k", "test")
    assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)


def test_digits():
    x, y = load_dataset("digits", "train")
    xt, _ = load_dataset("digits", "test")
    assert x.shape[1:] == (1, 8, 8) and len(x) + len(xt) == 1797
    assert float(x.max()) == 1.0 and float(x.min()) == 0.0 and set(y.tolist()) == set(range(10))


def test_unknown_name_lists_known_ones():
    with pytest.raises(ValueError, match=r"Unknown data set 'mnsit'.*mnist-5k"):
        load_dataset("mnsit")


def test_unknown_split():
    with pytest.raises(ValueError, match=r"`split`='valid'.*\['train', 'test'\]"):
        load_dataset("mnist-5k", split="valid")


def test_list_datasets():
    assert {"mnist-5k", "digits", "mnist", "fashion-mnist", "cifar10"} <= set(list_datasets())
    assert set(list_datasets(offline_only=True)) == {"mnist-5k", "mnist-5k-colour", "digits"}
    assert dataset_info("cifar10").shape == (3, 32, 32)
    offline = r"offline: \['mnist-5k', 'mnist-5k-colour', 'digits'\]"
    with pytest.raises(ValueError, match=r"Unknown data set 'mnsit'.*" + offline):
        dataset_info("mnsit")


def test_catalog_imports_no_torch_and_data_reexports_it():
    """`probgen data list` reads probgen.catalog, which must stay torch-free; probgen.data re-exports it."""
    import probgen.catalog as catalog

    assert (list_datasets, dataset_info) == (catalog.list_datasets, catalog.dataset_info)
    code = "import sys, probgen.catalog; print(sorted({'torch', 'numpy'} & set(sys.modules)))"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=Path(__file__).parents[1])
    assert res.returncode == 0 and res.stdout.strip() == "[]", res.stderr


def test_network_dataset_fails_fast_without_download(tmp_path):
    with pytest.raises(DatasetUnavailableError, match=r"'mnist'.*offline.*mnist-5k"):
        load_dataset("mnist", root=tmp_path, download=False)


def test_network_dataset_fails_fast_when_unreachable(tmp_path, monkeypatch):
    import probgen.data as data

    monkeypatch.setattr(data, "_network_reachable", lambda host, timeout=3.0: False)
    with pytest.raises(DatasetUnavailableError, match="cannot be reached.*digits"):
        load_dataset("fashion-mnist", root=tmp_path)


def test_binarize_threshold_and_stochastic():
    x = torch.tensor([[[[0.2, 0.5, 0.8]]]])
    assert binarize_images(x, "threshold").tolist() == [[[[0.0, 0.0, 1.0]]]]
    xs = torch.full((20000,), 0.3)
    b = binarize_images(xs, "stochastic", seed=1)
    assert set(b.unique().tolist()) == {0.0, 1.0}
    assert abs(float(b.mean()) - 0.3) < 4 * (0.3 * 0.7 / 20000) ** 0.5
    assert torch.equal(b, binarize_images(xs, "stochastic", seed=1))
    with pytest.raises(ValueError, match="`binarize`='dynamic'"):
        binarize_images(x, "dynamic")


def test_load_with_binarize():
    x, _ = load_dataset("digits", "test", binarize="threshold")
    assert set(x.unique().tolist()) == {0.0, 1.0}


def test_loader_covers_every_example_once_and_repeats_per_epoch():
    x = torch.arange(10.0).view(10, 1, 1, 1)
    y = torch.arange(10)
    loader = TensorLoader(x, y, batch_size=4, seed=3)
    assert len(loader) == 3
    first = torch.cat([b for _, b in loader])
    assert sorted(first.tolist()) == list(range(10))
    assert torch.equal(first, torch.cat([b for _, b in loader]))  # same epoch -> same order
    loader.set_epoch(1)
    assert not torch.equal(first, torch.cat([b for _, b in loader]))
    for xb, yb in loader:
        assert torch.equal(xb.view(-1).long(), yb)


def test_loader_shards_across_ranks_like_distributed_sampler():
    x = torch.arange(10.0).view(10, 1, 1, 1)
    loaders = [TensorLoader(x, None, 2, rank=r, world_size=3) for r in range(3)]
    shards = [torch.cat([b.view(-1) for b, _ in loader]) for loader in loaders]
    assert all(len(s) == 4 for s in shards)  # 10 padded to 12, 4 per rank
    assert set(torch.cat(shards).long().tolist()) == set(range(10))


def test_loader_dynamic_binarisation_changes_per_epoch():
    x = torch.full((64, 1, 2, 2), 0.5)
    loader = TensorLoader(x, batch_size=64, shuffle=False, binarize="stochastic")
    a = next(iter(loader))[0]
    loader.set_epoch(1)
    b = next(iter(loader))[0]
    assert set(a.unique().tolist()) == {0.0, 1.0} and not torch.equal(a, b)


def test_loader_bad_arguments():
    x = torch.zeros(5, 1, 2, 2)
    with pytest.raises(ValueError, match="`batch_size`"):
        TensorLoader(x, batch_size=0)
    with pytest.raises(ValueError, match="`labels` has 4"):
        TensorLoader(x, torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="`rank`=2"):
        TensorLoader(x, rank=2, world_size=2)


def test_make_loader_drop_last():
    data = load_dataset("digits", "test")
    loader = make_loader(data, 100, drop_last=True)
    assert len(loader) == len(data.images) // 100
    assert all(xb.shape == (100, 1, 8, 8) for xb, _ in loader)
