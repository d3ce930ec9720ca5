"""Bad input: one clear ``gens: error:`` line, exit code 2, nothing written before is lost and
no run directory that could pass for a result (no metrics.json, no checkpoint)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from gens.utils.checkpoint import load_model, read_checkpoint
from gens.utils.errors import CheckpointError
from tests.conftest import TINY

ROOT = Path(__file__).resolve().parents[2]
GAN = ["model=gan", "data=ring8"]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_clean_failure(r, *words: str) -> None:
    assert r.code == 2, r.err[-2000:]
    assert len(r.error_lines) == 1, r.err[-2000:]
    line = r.error_lines[0]
    assert line.startswith("gens: error: ")
    for w in words:
        assert w in line, line
    assert "Traceback" not in r.err
    assert not (r.run_dir / "metrics.json").exists()
    assert not list(r.run_dir.glob("checkpoints/*.ckpt"))


@pytest.mark.parametrize(
    "override, words",
    [
        ("data.batch_size=0", ["data.batch_size", ">= 1"]),
        ("model.optimizer_g.lr=-0.001", ["lr", "> 0"]),
        ("model.optimizer_d.lr=0", ["lr", "> 0"]),
        ("model.n_critic=0", ["n_critic"]),
        ("model.loss.d=hinge_typo", ["unknown model.loss.d", "hinge_typo"]),
        ("model.loss.g=nope", ["unknown model.loss.g"]),
        ("trainer.max_epochs=0", ["max_epochs"]),
        ("data.name=ring9", ["unknown toy set"]),
        ("ckpt_path=/nonexistent/last.ckpt", ["does not exist"]),
        ("divergence.policy=ignore", ["divergence.policy"]),
    ],
)
def test_impossible_config(run_main, override, words):
    r = run_main([*GAN, override])
    assert_clean_failure(r, *words)
    assert not r.run_dir.exists(), sorted(p.name for p in r.run_dir.rglob("*"))


@pytest.fixture(scope="module")
def good_ckpt(tmp_path_factory):
    """last.ckpt of a finished tiny vanilla-GAN run."""
    from gens.train import train
    from tests.conftest import compose_cfg

    out = tmp_path_factory.mktemp("good") / "run"
    train(compose_cfg([*GAN, "data.n_train=2000", "test=false"], out))
    return out / "checkpoints" / "last.ckpt"


def _bad_files(tmp: Path, good: Path) -> dict[str, tuple[Path, list[str]]]:
    data = good.read_bytes()
    files = {
        "truncated": (data[: len(data) // 2], ["cannot read checkpoint", "truncated"]),
        "cut-tail": (data[:-100], ["cannot read checkpoint"]),
        "garbage": (np.random.default_rng(0).bytes(4096), ["cannot read checkpoint"]),
        "empty": (b"", ["cannot read checkpoint"]),
    }
    out = {}
    for name, (blob, words) in files.items():
        p = tmp / f"{name}.ckpt"
        p.write_bytes(blob)
        out[name] = (p, words)
    foreign = tmp / "foreign.ckpt"
    torch.save({"model": {"w": torch.zeros(3)}}, foreign)
    out["foreign"] = (foreign, ["not a Lightning checkpoint"])
    lightning = tmp / "lightning.ckpt"
    torch.save({"state_dict": {"w": torch.zeros(3)}, "epoch": 0}, lightning)
    out["not-gens"] = (lightning, ["not written by gens"])
    return out


@pytest.mark.parametrize(
    "kind", ["truncated", "cut-tail", "garbage", "empty", "foreign", "not-gens"]
)
def test_bad_checkpoint(run_main, tmp_path, good_ckpt, kind):
    path, words = _bad_files(tmp_path, good_ckpt)[kind]
    before = _digest(path)
    r = run_main([*GAN, f"ckpt_path={path}"])
    assert_clean_failure(r, str(path.name), *words)
    assert _digest(path) == before
    with pytest.raises(CheckpointError):
        (load_model if kind == "not-gens" else read_checkpoint)(path)


def test_checkpoint_of_another_model(run_main, good_ckpt):
    before = _digest(good_ckpt)
    r = run_main(["model=wgan_gp", "data=ring8", f"ckpt_path={good_ckpt}"])
    assert_clean_failure(r, "holds a GAN", "WGAN", "model=")
    assert _digest(good_ckpt) == before


def test_checkpoint_of_another_architecture(run_main, good_ckpt):
    r = run_main([*GAN, "model.generator.hidden=[16,16]", f"ckpt_path={good_ckpt}"])
    assert_clean_failure(r, "has shape", "model= and data= of that run")


def test_checkpoint_for_other_data_shape(run_main, good_ckpt):
    r = run_main(["model=gan", "data=gauss1d", f"ckpt_path={good_ckpt}"])
    assert_clean_failure(r, "other data", "data.name: ring8", "gauss1d")


@pytest.mark.parametrize("state", ["missing", "empty", "no-npy"])
def test_missing_or_empty_data_folder(run_main, tmp_path, state):
    root = tmp_path / "vectors"
    if state != "missing":
        root.mkdir()
    if state == "no-npy":
        (root / "readme.txt").write_text("not data")
    target = "data._target_=tests.reliability.helpers.NpyFolderData"
    r = run_main(
        [
            "model=gan",
            "data=ring8",
            "~data.name",
            "~data.n_train",
            "~data.n_val",
            "~data.n_test",
            target,
            f"+data.root={root}",
        ]
    )
    words = {"missing": ["does not exist"], "empty": ["is empty"], "no-npy": ["no *.npy"]}
    assert_clean_failure(r, str(root), *words[state])
    assert not r.run_dir.exists()


def test_failure_keeps_earlier_results(run_main, tmp_path):
    """A failed resume of a finished run leaves that run's files byte for byte as they were."""
    ok = run_main(GAN, name="first")
    assert ok.code == 0, ok.err[-2000:]
    files = {p: _digest(p) for p in ok.run_dir.rglob("*") if p.is_file()}
    assert ok.run_dir / "metrics.json" in files
    ckpt = ok.run_dir / "checkpoints" / "last.ckpt"
    bad = run_main([*GAN, "model.n_critic=0", f"ckpt_path={ckpt}"], name="second")
    assert_clean_failure(bad, "n_critic")
    bad = run_main(["model=wgan_gp", "data=ring8", f"ckpt_path={ckpt}"], name="third")
    assert_clean_failure(bad, "holds a GAN")
    assert {p: _digest(p) for p in ok.run_dir.rglob("*") if p.is_file()} == files


# On-disk data sets are found from their configs: any data config with a folder key must fail
# cleanly, naming the folder, when that folder is missing or empty.
DATA_DIR = ROOT / "configs" / "data"
FOLDER_KEYS = ("root", "data_dir", "path", "dir", "folder")
ON_DISK = sorted(
    p.stem for p in DATA_DIR.glob("*.yaml") if set(FOLDER_KEYS) & set(OmegaConf.load(p))
)


def test_the_on_disk_sets_are_found():
    assert {"mnist", "cifar10", "celeba", "lsun", "imagefolder"} <= set(ON_DISK)


@pytest.mark.parametrize("state", ["missing", "empty"])
@pytest.mark.parametrize("data", ON_DISK)
def test_on_disk_data_set_without_files(run_main, cfg_factory, tmp_path, data, state):
    composed = cfg_factory([f"data={data}"], sub="probe").data
    keys = [k for k in FOLDER_KEYS if k in composed]
    folder = tmp_path / "nothing_here"
    if state == "empty":
        folder.mkdir()
    extra = ["data.download=false"] if "download" in composed else []
    r = run_main([*TINY, f"data={data}", f"data.{keys[0]}={folder}", *extra], fast=False)
    assert_clean_failure(r, str(folder))


def test_pack_not_dividing_the_batch(run_main):
    """Found at the first step (the loader's batch size is known only then): still a one-line
    error and no run directory left behind."""
    r = run_main(["model=pacgan", "data=ring8", "data.batch_size=99"])
    assert_clean_failure(r, "pack=2", "data.batch_size")
    assert not r.run_dir.exists(), sorted(p.name for p in r.run_dir.rglob("*"))
