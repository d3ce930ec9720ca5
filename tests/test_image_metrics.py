"""FID / IS / KID: equality with torch-fidelity, sanity of values, the feature cache, the
extractor choice and its errors."""

from __future__ import annotations

import urllib.error

import pytest
import torch
import torch_fidelity
from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY, register_feature_extractor

from gens.data.digits import DigitsDataModule
from gens.metrics.extractors import choose_extractor, load_extractor
from gens.metrics.features import ASSETS, ClassifierExtractor
from gens.metrics.fidelity import FidelityMetrics, extract_features
from gens.metrics.inception import INCEPTION_FILE, InceptionExtractor, inception_weights
from gens.metrics.real_stats import cached_features
from gens.utils.errors import CheckpointError, ConfigError, DataError


@pytest.fixture(scope="module")
def digits():
    dm = DigitsDataModule()
    dm.setup()
    return dm


@pytest.fixture(scope="module")
def extractor():
    return ClassifierExtractor()


def to_u8(x: torch.Tensor) -> torch.Tensor:
    return ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


class _Images(torch.utils.data.Dataset):
    def __init__(self, x):
        self.x = x

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i]


def test_shipped_classifier_is_small_and_accurate():
    import json

    path = ASSETS / "digits_classifier.pt"
    assert path.stat().st_size < 400_000
    report = json.loads(path.with_suffix(".json").read_text())
    assert report["test_acc"] >= 0.95


def test_extractor_inputs(extractor, digits):
    x = digits.splits["test"][0][:16]
    pool, logits = extractor.extract(x)
    assert pool.shape == (16, extractor.num_features) and logits.shape == (16, 10)
    # uint8 and float inputs of the same images agree; 3-channel gray equals 1-channel
    p_u8, _ = extractor.both(to_u8(x))
    p_f, _ = extractor.both(to_u8(x).float() / 127.5 - 1)
    torch.testing.assert_close(p_u8, p_f)
    p_rgb, _ = extractor.both(x.expand(-1, 3, -1, -1).clone())
    torch.testing.assert_close(p_rgb, pool)
    # the classifier reads its own test split
    assert (logits.argmax(1) == digits.splits["test"][1][:16]).float().mean() > 0.8


def test_fid_kid_is_equal_torch_fidelity(extractor, digits):
    """Same two image sets, same extractor: our numbers are torch-fidelity's (1e-4 rel).
    KID uses one subset of all images (both libraries draw subsets with their own RNGs)."""
    real = to_u8(digits.splits["train"][0][:200])
    fake = to_u8(digits.splits["test"][0][:200] + 0.3 * torch.randn(200, 1, 32, 32))
    if "gens-digits" not in FEATURE_EXTRACTORS_REGISTRY:
        register_feature_extractor("gens-digits", ClassifierExtractor)
    ref = torch_fidelity.calculate_metrics(
        input1=_Images(fake),
        input2=_Images(real),
        cuda=False,
        fid=True,
        kid=True,
        isc=True,
        feature_extractor="gens-digits",
        kid_subsets=1,
        kid_subset_size=200,
        isc_splits=1,
        batch_size=100,
        save_cpu_ram=True,
        verbose=False,
    )
    ours = FidelityMetrics(extractor, kid_subsets=1, kid_subset_size=200, is_splits=1)
    ours.set_real(extract_features(extractor, [real[:150], real[150:]]))
    for b in (fake[:128], fake[128:]):
        ours.update(b)
    m = ours.compute()
    assert m["fid"] == pytest.approx(ref["frechet_inception_distance"], rel=1e-4)
    assert m["kid"] == pytest.approx(ref["kernel_inception_distance_mean"], rel=1e-4)
    assert m["is"] == pytest.approx(ref["inception_score_mean"], rel=1e-4)


def test_real_vs_real_small_noise_large(extractor, digits):
    metrics = FidelityMetrics(extractor, kid_subset_size=300)
    metrics.set_real(extract_features(extractor, [digits.splits["train"][0]]))
    metrics.update(digits.splits["test"][0])
    real = metrics.compute()
    metrics.reset()
    metrics.update(torch.rand(300, 1, 32, 32) * 2 - 1)
    noise = metrics.compute()
    assert real["fid"] < 0.05 * noise["fid"]
    assert real["kid"] < 0.05 * noise["kid"]
    assert real["is"] > 7.0 and noise["is"] < 3.0


def test_compute_leaves_global_rng_alone(extractor, digits):
    metrics = FidelityMetrics(extractor, kid_subsets=5, kid_subset_size=50)
    metrics.set_real(extract_features(extractor, [digits.splits["val"][0]]))
    metrics.update(digits.splits["test"][0][:100])
    torch.manual_seed(3)
    a = metrics.compute(seed=7)
    after = torch.rand(1)
    torch.manual_seed(3)
    b = metrics.compute(seed=7)
    assert a == b and torch.equal(after, torch.rand(1))


def test_feature_cache_reused_and_repaired(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return torch.arange(12.0).reshape(4, 3)

    key = {"data": "digits", "split": "train", "extractor": "digits", "digest": "ab", "n": 4}
    a, hit_a = cached_features(tmp_path, key, compute)
    b, hit_b = cached_features(tmp_path, key, compute)
    assert (hit_a, hit_b) == (False, True) and len(calls) == 1
    torch.testing.assert_close(a, b)
    (path,) = tmp_path.glob("*.pt")
    assert path.name.startswith("digits_train_digits-ab_4")
    path.write_bytes(b"not a torch file")
    c, hit_c = cached_features(tmp_path, key, compute)
    assert not hit_c and len(calls) == 2
    torch.testing.assert_close(a, c)
    # another size is another entry
    cached_features(tmp_path, {**key, "n": 5}, compute)
    assert len(list(tmp_path.glob("*.pt"))) == 2


def test_missing_inception_weights_error(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))

    def offline(*a, **k):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    with pytest.raises(DataError) as e:
        inception_weights()
    msg = str(e.value)
    assert INCEPTION_FILE in msg and str(tmp_path / "hub" / "checkpoints") in msg
    assert "name resolution" not in msg and "Errno" not in msg
    with pytest.raises(DataError, match="no file at"):
        InceptionExtractor(weights_path=tmp_path / "nope.pth")
    # extractor=auto without a classifier or weights: no metrics, and the reason says why
    choice, reason = choose_extractor("auto", "cifar10")
    assert choice is None and "cifar10_classifier.pt" in reason and INCEPTION_FILE in reason
    choice, _ = choose_extractor("inception", "cifar10")
    with pytest.raises(DataError, match=INCEPTION_FILE):
        load_extractor(choice)


def test_extractor_choice_and_bad_files(tmp_path):
    choice, _ = choose_extractor("auto", "digits")
    assert choice.kind == "classifier" and choice.path == ASSETS / "digits_classifier.pt"
    (tmp_path / "mnist_classifier.pt").write_bytes((ASSETS / "digits_classifier.pt").read_bytes())
    choice, _ = choose_extractor("auto", "mnist", [tmp_path])
    assert choice.path == tmp_path / "mnist_classifier.pt"
    assert choose_extractor("none", "digits")[0] is None
    with pytest.raises(ConfigError, match="unknown feature extractor"):
        choose_extractor("vgg", "digits")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="cannot read classifier weights"):
        ClassifierExtractor(weights_path=bad)
    with pytest.raises(ConfigError, match="gens-train-classifier"):
        ClassifierExtractor(weights_path=tmp_path / "missing.pt")


def test_inception_extractor_wiring(tmp_path, monkeypatch):
    """InceptionV3 behind our interface, on random weights written in the real file format:
    2048-d pool features and 1008 logits for gray and RGB images of any size."""
    import torch_fidelity.feature_extractor_inceptionv3 as tf_inception

    cls = tf_inception.FeatureExtractorInceptionV3
    with monkeypatch.context() as m:
        m.setattr(tf_inception, "load_state_dict_from_url", lambda *a, **k: {})
        m.setattr(cls, "load_state_dict", lambda self, sd, *a, **k: None)
        net = cls("inception-v3-compat", ["2048"])
    path = tmp_path / INCEPTION_FILE
    torch.save(net.state_dict(), path)
    del net
    ex = InceptionExtractor(weights_path=path)
    gray = torch.rand(2, 1, 32, 32) * 2 - 1
    pool, logits = ex.both(gray)
    assert pool.shape == (2, 2048) and logits.shape == (2, 1008)
    torch.testing.assert_close(ex.both(gray.expand(-1, 3, -1, -1).clone())[0], pool)
    metrics = FidelityMetrics(ex, kid_subset_size=2, is_splits=1)
    metrics.set_real(pool)
    metrics.update(gray)
    assert metrics.compute()["fid"] == pytest.approx(0.0, abs=1e-3)
    # a weights file that would run code is refused before torch-fidelity sees it
    evil = tmp_path / "evil.pth"
    torch.save({"x": _Images([1])}, evil)
    with pytest.raises(CheckpointError, match="cannot read InceptionV3 weights"):
        InceptionExtractor(weights_path=evil)
