"""Every registered architecture: shapes, gradients reaching the inputs, determinism under a seed,
conditioning, and clear errors for bad configurations (torchvision test_models.py style)."""

import pytest
import torch
from gan_helpers import TINY, tiny_cfg

import probgen
from probgen.gan import ROLES, get_model, list_models, model_options
from probgen.gan.dcgan import stage_sizes

ALL = [(role, name) for role in ROLES for name in list_models(role)]


def _build(role, name, seed=0, **extra):
    probgen.seed(seed)
    return get_model(name, role, **{**tiny_cfg(role, name), **extra})


def _input(role, model, batch=3):
    if role == "generator":
        return torch.randn(batch, model.latent_dim)
    return torch.rand(batch, model.channels, model.image_size, model.image_size) * 2 - 1


def test_registry_lists_every_architecture_and_tests_cover_them():
    assert list_models("generator") == ["dcgan", "transformer"]
    assert list_models("discriminator") == ["dcgan", "patchgan", "vit"]
    assert set(ALL) == set(TINY)


def test_registry_errors_name_the_known_choices():
    with pytest.raises(ValueError, match=r"Unknown generator 'stylegan'.*\['dcgan', 'transformer'\]"):
        get_model("stylegan", "generator")
    with pytest.raises(ValueError, match=r"`role`='critic'.*generator"):
        list_models("critic")
    with pytest.raises(ValueError, match=r"does not take \['width'\]; it takes .*'ngf'"):
        get_model("dcgan", "generator", width=3)
    assert model_options("patchgan", "discriminator")["n_layers"] == 2


@pytest.mark.parametrize("role,name", ALL)
@pytest.mark.parametrize("num_classes", [None, 10])
def test_output_shape(role, name, num_classes):
    model = _build(role, name, num_classes=num_classes)
    y = torch.tensor([0, 4, 9]) if num_classes else None
    out = model(_input(role, model), y)
    if role == "generator":
        assert out.shape == (3, 1, 28, 28)
        assert out.min() >= -1 and out.max() <= 1  # tanh output
    elif name == "patchgan":
        assert out.shape == (3, 1, model.map_size, model.map_size) and model.map_size > 1
    else:
        assert out.shape == (3,)


@pytest.mark.parametrize("role,name", ALL)
def test_gradients_reach_inputs_and_every_parameter(role, name):
    model = _build(role, name, num_classes=10)
    x = _input(role, model).requires_grad_(True)
    model(x, torch.tensor([1, 2, 3])).float().square().sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    for pname, p in model.named_parameters():
        assert p.grad is not None, f"{pname} got no gradient"
        if "label" not in pname:  # rows of unused labels get zero gradient
            assert p.grad.abs().sum() > 0, f"{pname} has a zero gradient"


@pytest.mark.parametrize("role,name", ALL)
def test_deterministic_under_seed(role, name):
    outs = []
    for _ in range(2):
        model = _build(role, name, seed=7)
        probgen.seed(8)
        outs.append(model(_input(role, model)).detach())
    assert torch.equal(outs[0], outs[1])
    other = _build(role, name, seed=9)
    probgen.seed(8)
    assert not torch.equal(outs[0], other(_input(role, other)).detach())


@pytest.mark.parametrize("name", list_models("generator"))
def test_conditional_generator_depends_on_label(name):
    G = _build("generator", name, num_classes=10)
    z = torch.randn(1, G.latent_dim).expand(10, -1)  # the same z for every label
    x = G(z, torch.arange(10)).detach()  # train mode: BatchNorm scales the (small at init) activations
    diffs = (x[1:] - x[:1]).abs().flatten(1).mean(1)
    assert (diffs > 0.01 * x.std()).all()


@pytest.mark.parametrize("name", list_models("discriminator"))
def test_conditional_discriminator_depends_on_label(name):
    D = _build("discriminator", name, num_classes=10)
    x = _input("discriminator", D, 1).expand(10, -1, -1, -1)
    logits = D(x, torch.arange(10)).detach().flatten(1) if name == "patchgan" else D(x, torch.arange(10))
    assert logits.detach().std(0).max() > 1e-5


@pytest.mark.parametrize("size,channels", [(28, 1), (32, 3), (64, 3)])
def test_dcgan_sizes_and_channels(size, channels):
    G = get_model("dcgan", "generator", image_size=size, channels=channels, ngf=2, latent_dim=4)
    D = get_model("dcgan", "discriminator", image_size=size, channels=channels, ndf=2)
    x = G(torch.randn(2, 4))
    assert x.shape == (2, channels, size, size)
    assert D(x).shape == (2,)
    convs = [m for m in G.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    strides = [c.stride[0] for c in convs]
    assert len(convs) == 4  # project to 4x4, then four transposed convs: stride 2 until the size is reached
    assert strides == ([2, 2, 2, 2] if size == 64 else [2, 2, 2, 1])
    assert stage_sizes(size) == {28: [4, 7, 14, 28], 32: [4, 8, 16, 32], 64: [4, 8, 16, 32, 64]}[size]


def test_dcgan_init_is_normal_002():
    G = get_model("dcgan", "generator", ngf=32)
    w = torch.cat([m.weight.flatten() for m in G.modules() if isinstance(m, torch.nn.ConvTranspose2d)])
    assert abs(w.std().item() - 0.02) < 0.001 and abs(w.mean().item()) < 0.001


def test_patchgan_depth_sets_the_map():
    maps = [get_model("patchgan", "discriminator", n_layers=n, ndf=2).map_size for n in (1, 2, 3)]
    assert maps == [12, 5, 1]
    assert get_model("patchgan", "discriminator", n_layers=1, ndf=2).receptive_field == 16


def test_vit_discriminator_is_vitgan_style():
    D = get_model("vit", "discriminator", patch_size=4, overlap=2, dim=16, depth=1, heads=2)
    assert D.patches(torch.zeros(2, 1, 28, 28)).shape == (2, 49, 64)  # overlapping 8x8 patches
    attn = D.blocks[0].attn
    assert attn.l2 and attn.qk.out_features == 16  # L2 attention with tied query/key weights
    sn = [m for m in D.modules() if isinstance(m, torch.nn.Linear)]
    assert all(torch.nn.utils.parametrize.is_parametrized(m, "weight") for m in sn)  # spectral norm, all


def test_l2_attention_matches_its_definition():
    from probgen.gan._blocks import Attention

    attn = Attention(8, heads=1, l2=True)
    x = torch.randn(2, 5, 8)
    q = attn.qk(x)  # (2, 5, 8)
    weights = torch.softmax(-torch.cdist(q, q).pow(2) / 8**0.5, dim=-1)  # oracle: explicit distances
    expected = attn.out(weights @ attn.v(x))
    torch.testing.assert_close(attn(x), expected, atol=1e-5, rtol=1e-4)


def test_transformer_generator_upsamples_token_grids():
    G = get_model("transformer", "generator", dim=64, heads=4, depth=(1, 1), patch_size=2)
    assert G.grids == [7, 14] and G.dims == [64, 16] and G.heads == [4, 1]
    G32 = get_model("transformer", "generator", image_size=32, channels=3, dim=64, depth=(1, 1, 1))
    assert G32.grids == [4, 8, 16] and G32(torch.randn(2, 128)).shape == (2, 3, 32, 32)


@pytest.mark.parametrize(
    "role,name,cfg,match",
    [
        ("generator", "dcgan", {"image_size": 20}, r"cannot produce `image_size`=20"),
        ("discriminator", "dcgan", {"image_size": 12}, r"cannot produce `image_size`=12"),
        ("generator", "transformer", {"image_size": 30, "patch_size": 2}, r"token grid must halve"),
        ("generator", "transformer", {"image_size": 27}, r"multiple of `patch_size`"),
        ("discriminator", "vit", {"image_size": 30, "patch_size": 4}, r"multiple of `patch_size`"),
        ("discriminator", "patchgan", {"image_size": 16, "n_layers": 4}, r"shrinks a 16x16 image"),
        ("discriminator", "dcgan", {"norm": "layer"}, r"`norm`='layer'"),
        ("generator", "dcgan", {"ngf": 0}, r"`ngf` must be an int >= 1"),
        ("generator", "transformer", {"depth": (2, 0)}, r"`depth` must be a non-empty tuple of ints >= 1"),
    ] + [(role, name, {"num_classes": 0}, r"`num_classes`=0: in probgen an unconditional model has "
          r"`num_classes`=None") for role, name in ALL],
)
def test_bad_configurations(role, name, cfg, match):
    with pytest.raises(ValueError, match=match):
        get_model(name, role, **cfg)


def test_bad_inputs_are_explained():
    G = get_model("dcgan", "generator", ngf=2, latent_dim=4, num_classes=10)
    with pytest.raises(ValueError, match=r"pass `y`"):
        G(torch.randn(2, 4))
    with pytest.raises(ValueError, match=r"`y` has shape \(3,\) but the batch has 2"):
        G(torch.randn(2, 4), torch.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match=r"labels in \[0, 12\].*10 classes"):
        G(torch.randn(2, 4), torch.tensor([0, 12]))
    with pytest.raises(ValueError, match=r"latent codes of shape \(B, 4\)"):
        G(torch.randn(2, 5), torch.tensor([0, 1]))
    D = get_model("dcgan", "discriminator", ndf=2)
    with pytest.raises(ValueError, match=r"`x` has shape \(2, 3, 28, 28\) but the DCGAN discriminator takes "
                       r"images of shape \(B, 1, 28, 28\); the DCGAN discriminator was built for 1 channel"):
        D(torch.zeros(2, 3, 28, 28))
    with pytest.raises(TypeError, match=r"dtype torch.float64 but the DCGAN discriminator computes in"):
        D(torch.zeros(2, 1, 28, 28, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"unconditional"):
        D(torch.zeros(2, 1, 28, 28), torch.tensor([0, 1]))
