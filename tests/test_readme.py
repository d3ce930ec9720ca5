"""README.md as an executable contract: every command it shows composes (default suite) and
runs with a tiny budget (slow): image sets on disk against tiny fake sets in their real
layout, ``-m`` sweeps capped at two jobs, GPU / multi-GPU / SLURM commands composed with
``--cfg job`` instead of launched. A README command that fails fails the suite."""

from __future__ import annotations

import importlib
import importlib.util
import re
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from tests.conftest import TINY, compose_cfg
from tests.fakedata import make_fake, make_fake_lsun
from tests.helpers.readme import ROOT, cap_sweep, first_values, readme_commands

COMMANDS = [c for c in readme_commands() if not c.is_template]
TRAIN = [c for c in COMMANDS if c.kind == "train"]
TOOLS = [c for c in COMMANDS if c.kind == "tool"]
ON_DISK = {"mnist", "fashion_mnist", "cifar10", "celeba", "lsun", "imagefolder"}
ON_DISK |= {"power", "gas", "hepmass", "miniboone", "bsds300"}  # the MAF tabular sets
EMBEDDED_TOY = {"grid25", "ring8", "moons", "checkerboard", "spirals", "gauss1d"}
# the default recipe's rejection sampler, fitted in a few steps (a tiny budget of its own)
SMALL_SAMPLER = ["model.sampling.rejection.steps=5", "model.sampling.rejection.burn_in=200"]


def _ids(cmd) -> str:
    return cmd.text


def _placeholders(args: list[str], ckpt: str = "ckpt.ckpt", npz: str = "x.npz") -> list[str]:
    """README placeholders (``<ts>``, ``<ckpt>``, ``<p>``, ...) filled in."""
    out = []
    for arg in args:
        if arg.startswith("ckpt_path=") and "<" in arg:
            arg = f"ckpt_path={ckpt}"
        elif arg.startswith("samples=<"):
            arg = f"samples={npz}"
        out.append(re.sub(r"<[a-z]+>", "debug", arg))
    return out


def test_the_readme_shows_commands_of_every_kind():
    kinds = {c.kind for c in COMMANDS}
    assert {"train", "tool", "benchmark", "make"} <= kinds, kinds
    assert not [c.text for c in COMMANDS if c.kind == "other"]
    assert len(TRAIN) > 40


@pytest.mark.parametrize("cmd", [c for c in COMMANDS if c.kind == "make"], ids=_ids)
def test_make_targets_exist(cmd):
    makefile = (ROOT / "Makefile").read_text()
    for target in cmd.args:
        assert re.search(rf"^{re.escape(target)}:", makefile, re.M), target


@pytest.mark.parametrize("cmd", [c for c in COMMANDS if c.kind == "benchmark"], ids=_ids)
def test_benchmark_modules_and_flags_exist(cmd):
    spec = importlib.util.find_spec(f"benchmarks.{cmd.benchmark}")
    assert spec is not None, cmd.text
    # a harness's own flags, and those every harness has (benchmarks.common: --out, --publish)
    source = Path(spec.origin).read_text() + (Path(spec.origin).parent / "common.py").read_text()
    for flag in (a for a in cmd.args if a.startswith("--")):
        assert f'"{flag}"' in source, flag


def _choice(cfg, group: str) -> str:
    return str(cfg.hydra.runtime.choices.get(group))


@pytest.mark.parametrize("cmd", TRAIN, ids=_ids)
def test_train_commands_compose_and_build(cmd, tmp_path):
    """Each train command composes; with embedded data its data module and model are built
    (which finds a model on a data kind it cannot use)."""
    from gens.train import build

    args = [a for a in _placeholders(first_values(cmd.args)) if not a.startswith("--")]
    cfg = compose_cfg(args, tmp_path / "run", tiny=False)
    if _choice(cfg, "data") not in ON_DISK:
        build(cfg)


@pytest.mark.parametrize("cmd", TOOLS, ids=_ids)
def test_tool_commands_compose(cmd):
    module = importlib.import_module(f"gens.cli.{cmd.tool}")
    assert callable(module.main)
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(ROOT / "configs"), version_base="1.3"):
        compose(cmd.tool, overrides=_placeholders(cmd.args))
    GlobalHydra.instance().clear()


# --- running them (slow) ------------------------------------------------------------------


def _fake_data(cfg, tmp_path: Path) -> list[str]:
    name = _choice(cfg, "data")
    if name not in ON_DISK:
        return ["data.n_train=2000"] if name in EMBEDDED_TOY else []
    root = tmp_path / "fake" / name
    if name == "lsun":
        pytest.importorskip("lmdb")
        make_fake_lsun(root, category=str(cfg.data.category))
        return [f"data.root={root}", "data.batch_size=8"]
    fake = make_fake(name, root)
    download = ["data.download=false"] if "download" in cfg.data else []
    return [*fake, *download, "data.batch_size=8"]


@pytest.fixture(scope="module")
def default_ckpt(tmp_path_factory):
    """last.ckpt of a tiny run of the default recipe (for ``ckpt_path=<...>`` commands)."""
    from gens.train import train

    out = tmp_path_factory.mktemp("default") / "run"
    train(compose_cfg([*SMALL_SAMPLER, "data.n_train=2000", "test=false"], out))
    GlobalHydra.instance().clear()
    return out / "checkpoints" / "last.ckpt"


@pytest.mark.slow
@pytest.mark.parametrize("cmd", TRAIN, ids=_ids)
def test_train_commands_run(cmd, run_main, tmp_path, monkeypatch, default_ckpt):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # submitit's jobs import this checkout's gens
    args = _placeholders(cmd.args, ckpt=str(default_ckpt))
    if cmd.needs_gpu_or_cluster:
        r = run_main(["--cfg", "job", *first_values(args)], fast=False)
        assert r.code == 0, r.err[-3000:]
        assert "model:" in r.out
        return
    if "--help" in args:
        r = run_main(args, fast=False)
        assert r.code == 0 and "Powered by Hydra" in r.out + r.err, r.err[-3000:]
        return
    probe = compose_cfg(first_values(args), tmp_path / "probe", tiny=False)
    GlobalHydra.instance().clear()
    extra = list(TINY)
    if any(a.startswith("debug=") for a in args):  # debug configs switch callbacks/loggers off
        extra = [a for a in extra if not a.startswith(("callbacks.", "++callbacks", "logger="))]
    if str(probe.model._target_).endswith("GAN") and probe.model.get("sampling", {}).get(
        "rejection"
    ):
        extra += SMALL_SAMPLER
    if any(a.startswith("ckpt_path=") for a in args):
        extra = [e for e in extra if not e.startswith("trainer.max_epochs")]
        extra.append("trainer.max_epochs=2")
    # the fake set's folder and sizes win over the README's data.root
    after = _fake_data(probe, tmp_path)
    if cmd.multirun:
        args = [a for a in cap_sweep(args) if a != "-m"]
        extra, after = ["-m", *extra], [*after, f"hydra.sweep.dir={tmp_path / 'sweep'}"]
    r = run_main([*extra, *args, *after], fast=False)
    assert r.code == 0, (r.out + r.err)[-3000:]
    assert not r.error_lines, r.error_lines
    done = list(tmp_path.glob("sweep/*/metrics.json")) if cmd.multirun else [r.run_dir]
    assert done and all(Path(p).exists() for p in done)


@pytest.mark.slow
def test_tool_commands_run(run_tool, run_main, tmp_path):
    """The tools in the README's order, on a tiny DCGAN digits run: sample (whose samples.npz
    the later commands read), evaluate a checkpoint and a sample file, interpolate, and train
    a classifier into its run directory."""
    run = run_main(["model=dcgan", "data=digits", *TINY], name="dcgan", fast=False)
    assert run.code == 0, run.err[-3000:]
    ckpt = run.run_dir / "checkpoints" / "last.ckpt"
    budget = {"callbacks.image_metrics.n_test=10000": "callbacks.image_metrics.n_test=64"}
    for cmd in TOOLS:
        if not cmd.args:  # a bare command name: its usage
            r = run_tool(cmd.tool, ["--help"])
            assert r.code == 0, r.err[-2000:]
            continue
        args = [budget.get(a, a) for a in _placeholders(cmd.args, str(ckpt), "samples.npz")]
        if cmd.tool == "train_classifier":
            args += ["epochs=1", f"hydra.run.dir={tmp_path / 'classifier'}"]
        r = run_tool(cmd.tool, args)
        assert r.code == 0, (cmd.text, (r.out + r.err)[-3000:])
