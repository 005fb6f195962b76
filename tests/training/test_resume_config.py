"""Resume respects the run: config.json is the configuration, options given now may change only the keys a
resume may change, a refusal names the differing keys and writes nothing (probgen.training.config)."""

import json

import pytest

from probgen.diffusion.config import TrainConfig
from probgen.gan.config import GANConfig
from probgen.training.config import (
    differing_keys,
    merge_overrides,
    resolve_run_config,
    saved_config,
)
from probgen.vae.config import VAEConfig


def _saved(tmp_path, config) -> str:
    run = tmp_path / "run"
    run.mkdir()
    text = json.dumps(config.to_dict())
    (run / "config.json").write_text(text)
    return text


def test_a_new_run_takes_defaults_and_checks_fields(tmp_path):
    assert resolve_run_config(VAEConfig, None, tmp_path / "new") == VAEConfig()
    assert resolve_run_config(VAEConfig, {"z_dim": 2}, tmp_path / "new").z_dim == 2
    cfg = VAEConfig(z_dim=3)
    assert resolve_run_config(VAEConfig, cfg, tmp_path / "new") is cfg
    with pytest.raises(ValueError, match="`z_dim` must be an int >= 1, got 0"):
        resolve_run_config(VAEConfig, {"z_dim": 0}, tmp_path / "new")
    with pytest.raises(TypeError, match="`config` must be a VAEConfig, a dict"):
        resolve_run_config(VAEConfig, GANConfig(), tmp_path / "new")
    assert not (tmp_path / "new").exists()


def test_resume_starts_from_the_saved_config_and_changes_only_resumable_keys(tmp_path):
    _saved(tmp_path, VAEConfig(z_dim=2, hidden=(16,), data="digits", epochs=3))
    out = tmp_path / "run"
    assert resolve_run_config(VAEConfig, None, out, resume=True).z_dim == 2  # not the default 50
    more = resolve_run_config(VAEConfig, {"epochs": 80, "device": "cpu"}, out, resume=True)
    assert (more.epochs, more.device, more.z_dim, more.hidden) == (80, "cpu", 2, (16,))
    assert resolve_run_config(VAEConfig, {"z_dim": 2}, out, resume=True).z_dim == 2  # the same value: fine


def test_a_refused_resume_names_each_differing_key_and_writes_nothing(tmp_path):
    text = _saved(tmp_path, VAEConfig(z_dim=2, data="digits"))
    out = tmp_path / "run"
    with pytest.raises(ValueError) as e:
        resolve_run_config(VAEConfig, {"z_dim": 3, "lr": 0.01, "epochs": 9}, out, resume=True)
    msg = str(e.value)
    assert "`z_dim` (run: 2, now: 3)" in msg and "`lr` (run: 0.001, now: 0.01)" in msg
    assert "epochs" not in msg.split("differ")[0] and "only ['ae_epochs', 'ckpt_every', 'device'" in msg
    with pytest.raises(ValueError, match=r"`z_dim` \(run: 2, now: 50\)"):  # an instance is compared whole
        resolve_run_config(VAEConfig, VAEConfig(data="digits"), out, resume=True)
    assert (out / "config.json").read_text() == text
    assert sorted(p.name for p in out.iterdir()) == ["config.json"]


def test_dict_fields_merge_and_differ_key_by_key(tmp_path):
    _saved(tmp_path, GANConfig(g_cfg={"ngf": 4, "embed_dim": 8}, steps=10))
    out = tmp_path / "run"
    cfg = resolve_run_config(GANConfig, {"steps": 20, "g_cfg": {"ngf": 4}}, out, resume=True)
    assert cfg.g_cfg == {"ngf": 4, "embed_dim": 8} and cfg.steps == 20
    with pytest.raises(ValueError, match=r"`g_cfg.ngf` \(run: 4, now: 8\)"):
        resolve_run_config(GANConfig, {"g_cfg": {"ngf": 8}}, out, resume=True)
    assert merge_overrides({"a": {"x": 1}, "b": 2}, {"a": {"y": 2}}) == {"a": {"x": 1, "y": 2}, "b": 2}
    assert differing_keys({"a": {"x": 1}, "b": [1, 2]}, {"a": {"x": 2}, "b": (1, 2), "c": 0}) == {
        "a.x": (1, 2), "c": (None, 0)}


def test_prepare_runs_before_the_comparison(tmp_path):
    _saved(tmp_path, VAEConfig(x_shape=(1, 8, 8), data="digits"))
    fill = lambda c: VAEConfig(**{**c.__dict__, "x_shape": (1, 8, 8)})  # noqa: E731  (the data set's shape)
    cfg = resolve_run_config(VAEConfig, VAEConfig(data="digits"), tmp_path / "run", resume=True, prepare=fill)
    assert cfg.x_shape == (1, 8, 8)


def test_no_saved_config_means_a_fresh_start_and_a_broken_one_is_named(tmp_path):
    assert resolve_run_config(TrainConfig, {"steps": 3}, tmp_path / "none", resume=True).steps == 3
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad/config.json").write_text("{oops")
    assert saved_config(tmp_path / "none") is None
    with pytest.raises(ValueError, match="config.json' is not valid JSON"):
        resolve_run_config(TrainConfig, None, tmp_path / "bad", resume=True)
    assert sorted(TrainConfig.RESUMABLE) == ["ckpt_every", "device", "log_every", "num_samples",
                                             "sample_every", "sample_method", "sample_steps", "steps"]
