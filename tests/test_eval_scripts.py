"""The user tools (gens-sample, gens-evaluate, gens-interpolate, gens-train-classifier) end to
end, in this process as their console commands run them, on a DCGAN checkpoint trained for a few
steps. That ``scripts/*.py`` and the console commands start these same entry points is checked
in ``tests/test_cli.py``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from gens.cli import sample
from gens.cli.common import gens_errors
from gens.metrics.features import ASSETS, file_digest
from gens.utils.errors import ConfigError, DataError
from gens.utils.sample_files import load_samples
from tests.conftest import compose_cfg

SMALL_DCGAN = [
    "model=dcgan",
    "data=digits",
    "model.generator.width=8",
    "model.discriminator.width=8",
    "model.latent_dim=16",
    "callbacks.image_metrics.n=100",
    "callbacks.image_metrics.n_test=100",
    "callbacks.image_metrics.n_real=200",
]
# what the test stage of evaluate draws, as in training
FAST_METRICS = ["callbacks.image_metrics.n_test=100", "callbacks.image_metrics.n_real=200"]


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory) -> Path:
    from hydra.core.global_hydra import GlobalHydra

    from gens.train import train

    out = tmp_path_factory.mktemp("dcgan")
    train(compose_cfg(SMALL_DCGAN, out))
    GlobalHydra.instance().clear()
    return out / "checkpoints" / "last.ckpt"


def _ok(result):
    assert result.code == 0, result.out[-2000:] + result.err[-3000:]
    return result


def test_sample_script(ckpt, tmp_path, run_tool):
    out = tmp_path / "s.npz"
    _ok(run_tool("sample", [f"ckpt_path={ckpt}", "n=70", f"out={out}", "truncation=1.5"]))
    with np.load(out) as f:
        assert f["x"].shape == (70, 1, 32, 32) and np.abs(f["x"]).max() <= 1
        assert f["z"].shape == (70, 16) and np.abs(f["z"]).max() <= 1.5
    assert out.with_suffix(".png").is_file()


def test_evaluate_script(ckpt, tmp_path, run_tool):
    # checkpoint mode: the test metrics again, from the checkpoint alone
    proc = _ok(
        run_tool("evaluate", [f"ckpt_path={ckpt}", *FAST_METRICS, f"out={tmp_path / 'm.json'}"])
    )
    m = json.loads((tmp_path / "m.json").read_text())
    assert {"test/fid", "test/is", "test/kid"} <= set(m), proc.out
    trained = json.loads((ckpt.parents[1] / "metrics.json").read_text())
    assert m["test/fid"] == pytest.approx(trained["test/fid"], rel=1e-3)
    # samples mode: a folder of PNGs scored against data=digits
    from PIL import Image

    from gens.data import DigitsDataModule

    dm = DigitsDataModule()
    dm.setup()
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i, x in enumerate(dm.splits["test"][0][:60]):
        a = ((x[0].numpy() + 1) * 127.5).round().astype(np.uint8)
        Image.fromarray(a).save(folder / f"{i:03d}.png")
    _ok(
        run_tool(
            "evaluate",
            [
                f"samples={folder}",
                "data=digits",
                "n_real=300",
                "kid_subset_size=50",
                "is_splits=1",
            ],
        )
    )
    s = json.loads((tmp_path / "imgs.metrics.json").read_text())
    assert s["n"] == 60 and s["fid"] < m["test/fid"] and s["is"] > 5


def test_interpolate_script(ckpt, tmp_path, run_tool):
    out = tmp_path / "walk.png"
    _ok(
        run_tool(
            "interpolate",
            [
                f"ckpt_path={ckpt}",
                "walks=3",
                "steps=5",
                f"out={out}",
                "+arithmetic.a=[0,1]",
                "+arithmetic.b=[2]",
                "+arithmetic.c=[3,4]",
            ],
        )
    )
    for name in ("walk_linear.png", "walk_slerp.png", "walk_arithmetic.png"):
        assert (tmp_path / name).stat().st_size > 0


def test_interpolate_help_examples_work(ckpt, tmp_path, run_tool):
    """The commands ``--help`` shows, run as shown (with a checkpoint and its samples)."""
    proc = _ok(run_tool("interpolate", ["--help"]))
    examples = [ln.split()[1:] for ln in proc.out.splitlines() if ln.startswith("  gens-")]
    assert len(examples) == 3 and any("+arithmetic.a=[1,4]" in e for e in examples)
    _ok(run_tool("sample", [f"ckpt_path={ckpt}", "n=10", "out=samples.npz"]))
    for i, example in enumerate(examples):
        args = [a.replace("<ckpt>", str(ckpt)) for a in example] + [f"out=ex{i}.png"]
        _ok(run_tool("interpolate", args))
    assert (tmp_path / "ex2_arithmetic.png").is_file()


def test_train_classifier_writes_to_its_run_directory(tmp_path, run_tool):
    """Not to the shipped asset: that changes only with publish=true (checked, not run)."""
    shipped = file_digest(ASSETS / "digits_classifier.pt")
    proc = _ok(run_tool("train_classifier", ["epochs=1", "width=8", "feature_dim=16"]))
    (weights,) = (tmp_path / "logs" / "train_classifier" / "runs").glob("*/digits_classifier.pt")
    assert f"wrote {weights}" in proc.out and "publish=true" in proc.out
    assert (weights.parent / ".hydra" / "config.yaml").is_file()
    report = json.loads(weights.with_suffix(".json").read_text())
    assert report["data"] == "digits" and 0 <= report["test_acc"] <= 1
    assert file_digest(ASSETS / "digits_classifier.pt") == shipped
    from gens.metrics.features import ClassifierExtractor

    assert ClassifierExtractor(weights_path=weights).num_features == 16
    out = tmp_path / "clf.pt"
    _ok(run_tool("train_classifier", ["epochs=1", f"out={out}", "width=8", "feature_dim=16"]))
    assert out.is_file() and out.with_suffix(".json").is_file()
    from gens.cli.train_classifier import destination

    cfg = OmegaConf.create(
        {"out": None, "publish": True, "paths": {"data_dir": "d", "output_dir": "r"}}
    )
    assert destination(cfg, "digits") == ASSETS / "digits_classifier.pt"
    assert destination(cfg, "mnist") == Path("d/classifiers/mnist_classifier.pt")
    assert destination(OmegaConf.merge(cfg, {"publish": False}), "digits") == Path(
        "r/digits_classifier.pt"
    )


def test_script_errors_are_one_line(ckpt, tmp_path, capsys):
    """Unsupported options, corrupt or foreign checkpoints, missing samples: exit 2 and a
    ``gens: error:`` line (in-process, to spare subprocess start-ups)."""
    cfg = OmegaConf.create(
        {
            "ckpt_path": str(ckpt),
            "n": 4,
            "out": str(tmp_path / "s.npz"),
            "seed": 0,
            "batch_size": 4,
            "truncation": None,
            "temperature": 0.7,
            "label": None,
            "grid": 4,
        }
    )
    with pytest.raises(ConfigError, match="does not support temperature"):
        sample.sample(cfg)
    junk = tmp_path / "junk.ckpt"
    junk.write_bytes(b"PK\x03\x04 this is not a checkpoint")
    foreign = tmp_path / "foreign.ckpt"
    torch.save({"state_dict": {}, "epoch": 0}, foreign)
    for path, msg in ((junk, "cannot read checkpoint"), (foreign, "not written by gens")):
        with pytest.raises(SystemExit) as e:
            gens_errors(sample.sample)(OmegaConf.merge(cfg, {"ckpt_path": str(path)}))
        assert e.value.code == 2 and msg in capsys.readouterr().err
    with pytest.raises(DataError, match="samples not found"):
        load_samples(tmp_path / "none.npz", (1, 32, 32))
    bad = tmp_path / "bad.npz"
    np.savez(bad, images=np.zeros((3, 1, 32, 32), np.float32))
    with pytest.raises(DataError, match="no 'x'"):
        load_samples(bad, (1, 32, 32))
    u8 = tmp_path / "u8.npz"
    np.savez(u8, arr_0=np.full((3, 32, 32, 1), 255, np.uint8))  # NHWC uint8, as ADM writes
    x = load_samples(u8, (1, 32, 32))
    assert x.shape == (3, 1, 32, 32) and float(x.min()) == 1.0
