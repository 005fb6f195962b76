import random

import numpy as np
import pyro
import pytest
import torch

import probgen
from probgen.device import get_device


def test_seed_repeats_every_rng():
    probgen.seed(7)
    a = (torch.rand(2), np.random.rand(), random.random(), pyro.sample("x", pyro.distributions.Normal(0, 1)))
    probgen.seed(7)
    b = (torch.rand(2), np.random.rand(), random.random(), pyro.sample("x", pyro.distributions.Normal(0, 1)))
    assert torch.equal(a[0], b[0]) and a[1] == b[1] and a[2] == b[2] and torch.equal(a[3], b[3])


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True])
def test_seed_rejects_non_ints(bad):
    with pytest.raises(ValueError, match="`seed`"):
        probgen.seed(bad)


def test_device_auto_and_cpu():
    assert get_device("cpu") == torch.device("cpu")
    assert get_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert get_device(None) == get_device("auto")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_cuda_requested_without_cuda():
    with pytest.raises(ValueError, match="CUDA is not available here; use 'auto' or 'cpu'"):
        get_device("cuda")


def test_bad_device_string():
    with pytest.raises(ValueError, match="`device`='gpu0'"):
        get_device("gpu0")
    with pytest.raises(TypeError):
        get_device(3)
