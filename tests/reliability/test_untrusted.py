"""Untrusted files: checkpoints and cached statistics load with ``weights_only=True``; a pickle
that would run code is refused with a clear error (and does not run); no secret from the
environment lands in configs, logs or checkpoints."""

from __future__ import annotations

import ast
import pathlib
from pathlib import Path

import pytest
import torch

from gens.utils.checkpoint import load_model, read_checkpoint, safe_load
from gens.utils.ckpt_io import AtomicCheckpointIO
from gens.utils.errors import CheckpointError

ROOT = Path(__file__).resolve().parents[2]


class _Payload:
    """Unpickling this calls ``Path.touch(marker)``: stands in for arbitrary code."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


@pytest.fixture
def malicious(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.ckpt"
    torch.save({"state_dict": {}, "gens": {"class": "x"}, "hook": _Payload(marker)}, path)
    # the payload is live: an unsafe load would run it
    torch.load(path, weights_only=False)
    assert marker.exists()
    marker.unlink()
    return path, marker


@pytest.mark.parametrize(
    "loader",
    [
        read_checkpoint,
        load_model,
        lambda p: safe_load(p, what="statistics"),
        lambda p: AtomicCheckpointIO().load_checkpoint(p),
    ],
)
def test_code_carrying_pickle_is_refused(malicious, loader):
    path, marker = malicious
    with pytest.raises(CheckpointError, match=r"refused to load .*it references getattr") as info:
        loader(path)
    assert "could run code" in str(info.value) and "\n" not in str(info.value)
    assert not marker.exists()


def test_cli_refuses_code_carrying_checkpoint(run_main, malicious):
    path, marker = malicious
    r = run_main(["model=gan", "data=ring8", f"ckpt_path={path}"])
    assert r.code == 2 and len(r.error_lines) == 1
    assert "refused to load" in r.error_lines[0]
    assert not marker.exists()
    assert not r.run_dir.exists()


def _unsafe_loads(path: Path) -> list[str]:
    """Deserializing calls in a source file that could run code from the file they read."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Call):
            continue
        name = ast.unparse(node.func)
        kw = {k.arg: k.value for k in node.keywords}

        def is_true(key, kw=kw):
            return isinstance(kw.get(key), ast.Constant) and kw[key].value is True

        where = f"{path.relative_to(ROOT)}:{node.lineno} {name}"
        if name.endswith("torch.load") and not is_true("weights_only"):
            found.append(where + " without weights_only=True")
        if name.split(".")[0] in ("pickle", "dill", "cloudpickle") and "load" in name:
            found.append(where)
        if name.endswith(("np.load", "numpy.load")) and is_true("allow_pickle"):
            found.append(where + " with allow_pickle=True")
        if name.endswith("yaml.load") and "Safe" not in ast.unparse(node):
            found.append(where + " (use yaml.safe_load)")
    return found


def test_no_unsafe_deserialization_in_the_code_base():
    files = [p for d in ("gens", "scripts") for p in (ROOT / d).rglob("*.py")]
    files.append(ROOT / "train.py")
    assert [f for p in files for f in _unsafe_loads(p)] == []


def test_scanner_catches_unsafe_calls(tmp_path):
    bad = ROOT / "tests" / "reliability" / "_unsafe_example.py"
    bad.write_text(
        "import pickle, torch, numpy as np\n"
        "torch.load('a')\ntorch.load('a', weights_only=False)\npickle.load(open('a', 'rb'))\n"
        "np.load('a', allow_pickle=True)\ntorch.load('a', weights_only=True)\n"
    )
    try:
        assert len(_unsafe_loads(bad)) == 4
    finally:
        bad.unlink()


SECRETS = {
    "WANDB_API_KEY": "fakewandbkey0123456789abcdef0123456789abcd",
    "GENS_TEST_TOKEN": "tok-s3cr3t-not-for-disk",
}


def _files_containing(run_dir: Path, needles) -> list[str]:
    hits = []
    for p in run_dir.rglob("*"):
        if p.is_file():
            data = p.read_bytes()
            hits += [
                f"{p.relative_to(run_dir)}: {n[:6]}..." for n in needles if n.encode() in data
            ]
    return hits


def test_no_secret_written_to_the_run_dir(run_main, monkeypatch):
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)
    # a config that interpolates a secret into logged hyper-parameters
    r = run_main(["model=gan", "data=ring8", "tags=[dev,${oc.env:GENS_TEST_TOKEN}]"])
    assert r.code == 0, r.err[-2000:]
    assert (r.run_dir / "checkpoints" / "last.ckpt").exists()
    assert (r.run_dir / "csv" / "hparams.yaml").exists()
    assert "<redacted>" in (r.run_dir / "csv" / "hparams.yaml").read_text()
    assert _files_containing(r.run_dir, SECRETS.values()) == []


@pytest.mark.slow
def test_no_secret_in_wandb_offline_files(run_main, monkeypatch):
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("WANDB_MODE", "offline")
    # (a secret put into logger arguments themselves, e.g. tags, goes to W&B as asked; a
    # secret interpolated elsewhere reaches W&B only through the redacted hyper-parameters)
    r = run_main(
        [
            "model=gan",
            "data=ring8",
            "logger=wandb",
            "logger.wandb.offline=true",
            "+extras.note=${oc.env:GENS_TEST_TOKEN}",
        ]
    )
    assert r.code == 0, r.err[-2000:]
    assert list(r.run_dir.glob("wandb/offline-run-*"))
    assert _files_containing(r.run_dir, SECRETS.values()) == []


def test_pickle_format_data_files_cannot_run_code(tmp_path):
    """CIFAR-10's python batches are pickles by format: only numpy arrays and plain containers
    are unpickled; anything else is a DataError and the payload does not run."""
    import pickle

    import numpy as np

    from gens.data.vision import read_cifar_batch
    from gens.utils.errors import DataError

    good = tmp_path / "data_batch_1"
    data = np.arange(2 * 3072, dtype=np.uint8).reshape(2, 3072)
    good.write_bytes(pickle.dumps({"data": data, "labels": [3, 7], "batch_label": "b"}))
    images, labels = read_cifar_batch(good)
    assert images.shape == (2, 32, 32, 3) and labels == [3, 7]

    marker = tmp_path / "pwned"
    evil = tmp_path / "data_batch_2"
    evil.write_bytes(pickle.dumps({"data": data, "labels": [0, 1], "x": _Payload(marker)}))
    with pytest.raises(DataError, match="refus"):
        read_cifar_batch(evil)
    assert not marker.exists()
