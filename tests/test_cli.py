"""The console commands: declared in pyproject.toml, each with a working ``--help`` through
``scripts/``, and front-door errors (one ``gens: error:`` line naming the key and the fix, exit
code 2, nothing left behind). The wrapper files run as ``__main__`` in this process; one real
command checks what only a fresh interpreter shows (exit code and stderr of the process)."""

from __future__ import annotations

import importlib
import runpy
import sys

import pytest
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig

from tests.conftest import ROOT, run_cli

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")

COMMANDS = {
    "gens-train": "gens.train:main",
    "gens-sample": "gens.cli.sample:main",
    "gens-evaluate": "gens.cli.evaluate:main",
    "gens-interpolate": "gens.cli.interpolate:main",
    "gens-train-classifier": "gens.cli.train_classifier:main",
}
TOOLS = ["sample", "evaluate", "interpolate", "train_classifier"]


def test_console_commands_are_declared_and_importable():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == COMMANDS
    for target in scripts.values():
        module, name = target.split(":")
        assert callable(getattr(importlib.import_module(module), name))


def _run_script(script: str, args: list[str], cwd, capsys, monkeypatch) -> tuple[int, str]:
    """``python <script> <args>`` from ``cwd``, as ``__main__`` in this process: (exit code,
    stdout)."""
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("GENS_ROOT", str(cwd))
    monkeypatch.setattr(sys, "argv", [str(ROOT / script), *args])
    GlobalHydra.instance().clear()
    capsys.readouterr()
    code = 0
    try:
        runpy.run_path(str(ROOT / script), run_name="__main__")
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    finally:
        GlobalHydra.instance().clear()
        HydraConfig.instance().cfg = None
    return code, capsys.readouterr().out


@pytest.mark.parametrize("tool", TOOLS)
def test_scripts_are_thin_wrappers_with_help(tool, tmp_path, capsys, monkeypatch):
    wrapper = (ROOT / "scripts" / f"{tool}.py").read_text()
    assert f"from gens.cli.{tool} import main" in wrapper and "sys.path" not in wrapper
    code, out = _run_script(f"scripts/{tool}.py", ["--help"], tmp_path, capsys, monkeypatch)
    assert code == 0
    assert f"gens-{tool.replace('_', '-')} " in out
    assert f"python scripts/{tool}.py" in out
    assert list(tmp_path.iterdir()) == []


def test_train_entry_point_has_help(tmp_path, capsys, monkeypatch):
    code, out = _run_script("train.py", ["--help"], tmp_path, capsys, monkeypatch)
    assert code == 0 and "== Config ==" in out


CASES = [
    ("sample", [], "ckpt_path is required: pass ckpt_path="),
    (
        "sample",
        ["ckpt_path=x.ckpt", "n=ten"],
        "n must be an integer >= 1, got 'ten'; pass e.g. n=1000",
    ),
    ("sample", ["ckpt_path=x.ckpt", "label=cat"], "label must be an integer >= 0 (or null), got"),
    ("sample", ["ckpt_path=x.ckpt", "out=s.png"], "out must end in .npz"),
    ("interpolate", ["ckpt_path=x.ckpt", "pairs=abc"], "pairs must be a list of index pairs"),
    ("interpolate", ["ckpt_path=x.ckpt", "walks=0"], "walks=0 draws no walk: pass walks="),
    ("interpolate", ["ckpt_path=x.ckpt", "arithmetic=3"], "pass e.g. +arithmetic.a=[1,4]"),
    (
        "evaluate",
        ["ckpt_path=x.ckpt", "callbacks.image_metrics.n=10000"],
        "pass callbacks.image_metrics.n_test=<n> instead",
    ),
    ("train_classifier", ["publish=true", "out=c.pt"], "give out=<file.pt> or publish=true"),
    ("train_classifier", ["epochs=many"], "epochs must be an integer >= 1"),
]


@pytest.mark.parametrize(("tool", "args", "message"), CASES)
def test_bad_options_are_one_line_errors(tool, args, message, run_tool, tmp_path):
    r = run_tool(tool, args)
    assert r.code == 2, r.err[-2000:]
    assert r.err.startswith("gens: error: ") and r.err.count("\n") == 1, r.err
    assert message in r.err
    assert list(tmp_path.iterdir()) == []  # nothing left behind


def test_a_bad_option_is_one_line_from_the_real_command(tmp_path):
    proc = run_cli(["ckpt_path=x.ckpt", "n=ten"], tmp_path, script="scripts/sample.py")
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stderr.startswith("gens: error: ") and proc.stderr.count("\n") == 1, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert list(tmp_path.iterdir()) == [], list(tmp_path.rglob("*"))


def test_errors_name_the_key_and_the_fix_in_process():
    from omegaconf import OmegaConf

    from gens.cli import interpolate
    from gens.utils.errors import ConfigError

    base = {"ckpt_path": "x", "mode": "both", "walks": 2, "steps": 5, "seed": 0}
    base |= {"variants": 1, "label": None, "pairs": None, "arithmetic": None}
    pairs, groups = interpolate.check(OmegaConf.create({**base, "pairs": [[0, 5]]}))
    assert pairs == [[0, 5]] and groups is None
    arith = {"a": [1, 4], "b": [2]}
    assert interpolate.check(OmegaConf.create({**base, "arithmetic": arith}))[1] == {
        "a": [1, 4],
        "b": [2],
        "c": [],
    }
    for bad, key in (
        ({"pairs": [[0, "x"]]}, "pairs"),
        ({"pairs": [[0, 1, 2]]}, "pairs"),
        ({"steps": 1}, "steps"),
        ({"mode": "zigzag"}, "mode"),
        ({"arithmetic": {"a": "abc"}}, "arithmetic.a"),
    ):
        with pytest.raises(ConfigError, match=key):
            interpolate.check(OmegaConf.create({**base, **bad}))


def test_no_path_hacks_in_the_repository():
    """Entry points import the installed gens (editable) or run from the repository root."""
    needle = "sys.path." + "insert"
    skip = {".venv", ".git", "logs", "data", "outputs", "multirun"}
    hits = [
        str(p.relative_to(ROOT))
        for p in ROOT.rglob("*.py")
        if not skip & set(p.relative_to(ROOT).parts) and needle in p.read_text()
    ]
    assert hits == []
