"""CGAN (concatenation and projection), AC-GAN, InfoGAN and the semi-supervised GAN: their
losses against direct formulas on fixed logits, their heads and gradients, labelled subsets,
and one-line errors for data they cannot use."""

from __future__ import annotations

import json
import math

import pytest
import torch
import torch.nn.functional as F  # noqa: N812

from gens.data import DigitsDataModule, ToyDataModule
from gens.data.semi import labelled_subset
from gens.gan.label_losses import (
    ac_class_loss,
    feature_matching,
    info_nll,
    ssgan_unlabeled_loss,
)
from gens.metrics.matching import matched_accuracy
from gens.nets import ConditionalDiscriminator, DCGANDiscriminator, MLPDiscriminator
from gens.train import build
from gens.utils.errors import ConfigError, DataError, IncompatibleDataError

SMALL_IMAGES = [
    "data=digits",
    "data.image_size=16",
    "data.batch_size=16",
    "model.generator.image.width=8",
    "model.discriminator.image.width=8",
    "callbacks.image_metrics=null",
]


# --- losses on fixed logits ------------------------------------------------------------------
def test_ac_class_loss_is_the_negative_log_likelihood_of_the_label():
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 3.0]])
    y = torch.tensor([0, 1])
    p = torch.exp(logits) / torch.exp(logits).sum(1, keepdim=True)
    direct = -(math.log(p[0, 0]) + math.log(p[1, 1])) / 2
    assert float(ac_class_loss(logits, y)) == pytest.approx(direct, rel=1e-6)


@pytest.mark.parametrize("explicit", [False, True])
def test_ssgan_unlabelled_loss_is_the_real_fake_cross_entropy_of_the_classifier(explicit):
    torch.manual_seed(0)
    k = 4
    l_unl, l_fake = torch.randn(5, k + explicit), torch.randn(6, k + explicit)

    def p_fake(logits):  # softmax over K + 1 classes, the fake class last (logit 0 if implicit)
        full = logits if explicit else torch.cat([logits, torch.zeros(len(logits), 1)], 1)
        return torch.softmax(full.double(), 1)[:, -1]

    direct = -0.5 * torch.log(1 - p_fake(l_unl)).mean() - 0.5 * torch.log(p_fake(l_fake)).mean()
    got = ssgan_unlabeled_loss(l_unl, l_fake, explicit_fake=explicit)
    assert float(got) == pytest.approx(float(direct), rel=1e-5)
    if not explicit:  # the form of the paper's code
        lse_u, lse_f = torch.logsumexp(l_unl, 1), torch.logsumexp(l_fake, 1)
        code = (
            -0.5 * lse_u.mean() + 0.5 * F.softplus(lse_u).mean() + 0.5 * F.softplus(lse_f).mean()
        )
        assert float(got) == pytest.approx(float(code), rel=1e-6)


def test_feature_matching_is_the_squared_distance_of_mean_features():
    a, b = torch.tensor([[1.0, 2.0], [3.0, 4.0]]), torch.tensor([[0.0, 0.0], [2.0, 2.0]])
    assert float(feature_matching(a, b)) == pytest.approx(((2 - 1) ** 2 + (3 - 1) ** 2) / 2)


@pytest.mark.parametrize("learned", [False, True])
def test_info_nll_is_the_negative_log_likelihood_of_the_codes(learned):
    torch.manual_seed(1)
    logits, cats = torch.randn(8, 10), torch.randint(0, 10, (8,))
    mean, codes = torch.randn(8, 2), torch.rand(8, 2) * 2 - 1
    log_std = torch.randn(8, 2) * 0.3 if learned else None
    cat, cont = info_nll([logits], [cats], mean, codes, log_std)
    direct_cat = -torch.log_softmax(logits, 1)[torch.arange(8), cats].mean()
    std = torch.ones(8, 2) if log_std is None else log_std.exp()
    direct_cont = -torch.distributions.Normal(mean, std).log_prob(codes).sum(1).mean()
    assert float(cat) == pytest.approx(float(direct_cat), rel=1e-6)
    assert float(cont) == pytest.approx(float(direct_cont), rel=1e-5)


def test_matched_accuracy_ignores_cluster_names():
    y = torch.tensor([0, 0, 1, 1, 2, 2])
    assert matched_accuracy(torch.tensor([2, 2, 0, 0, 1, 1]), y) == 1.0
    assert matched_accuracy(torch.tensor([2, 2, 0, 1, 1, 1]), y) == pytest.approx(5 / 6)


# --- networks -----------------------------------------------------------------------------
def test_projection_discriminator_adds_the_label_embedding_times_the_features():
    torch.manual_seed(0)
    d = ConditionalDiscriminator(
        (2,), 3, network=MLPDiscriminator, conditioning="projection", hidden=[16], maxout=0
    )
    x, y = torch.randn(5, 2), torch.tensor([0, 1, 2, 0, 1])
    f = d.inner.features(x)
    direct = d.inner.head(f).squeeze(-1) + (d.embed.weight[y] * f).sum(1)
    torch.testing.assert_close(d(x, y), direct)
    assert d.inner.num_classes is None  # the label enters at the output only
    with torch.no_grad():
        d.embed.weight.normal_()
    assert not torch.allclose(d(x, y), d(x, (y + 1) % 3))
    concat = ConditionalDiscriminator((1, 16, 16), 3, network=DCGANDiscriminator, width=4)
    assert concat.inner.num_classes == 3 and concat(torch.randn(2, 1, 16, 16), y[:2]).shape == (2,)


@pytest.mark.parametrize(
    "model,extra",
    [
        ("cgan", ["model.discriminator.conditioning=concat"]),
        ("cgan", ["model.discriminator.conditioning=projection"]),
        ("acgan", []),
    ],
)
def test_conditional_samples_have_the_requested_classes_shapes(cfg_factory, model, extra):
    _, gan = build(cfg_factory([f"model={model}", *SMALL_IMAGES, *extra]))
    gan.eval()
    y = torch.tensor([3, 3, 7])
    z = gan.noise(3, torch.Generator().manual_seed(0))
    x = gan.sample(3, y=y, z=z)
    assert x.shape == (3, 1, 16, 16) and torch.isfinite(x).all()
    assert not torch.allclose(x, gan.sample(3, y=torch.tensor([1, 1, 1]), z=z))
    assert gan.sample(5).shape == (5, 1, 16, 16)  # labels drawn when not given


def test_acgan_discriminator_has_one_source_logit_and_k_class_logits(cfg_factory):
    _, gan = build(cfg_factory(["model=acgan", *SMALL_IMAGES]))
    src, cls = gan.discriminator.heads(torch.randn(4, 1, 16, 16))
    assert src.shape == (4,) and cls.shape == (4, 10)


def test_acgan_objectives_are_the_papers_sums(cfg_factory, monkeypatch):
    """D: GAN loss + L_C on real and generated; G: its GAN loss + L_C on generated."""
    _, gan = build(cfg_factory(["model=acgan", *SMALL_IMAGES, "model.class_weight=0.5"]))
    torch.manual_seed(0)
    real, y = torch.randn(4, 1, 16, 16), torch.tensor([0, 1, 2, 3])
    y_fake = torch.tensor([5, 6, 7, 8])
    outs = {}

    def heads(x):  # fixed logits, one set for the real batch and one for the generated
        key = "real" if x is real else "fake"
        g = torch.Generator().manual_seed(1 if key == "real" else 2)
        outs[key] = (torch.randn(4, generator=g), torch.randn(4, 10, generator=g))
        return outs[key]

    monkeypatch.setattr(gan.discriminator, "heads", heads)
    monkeypatch.setattr(gan, "random_labels", lambda n, generator=None: y_fake)
    loss, logs, judged = gan.d_objective(real, y)
    (sr, cr), (sf, cf) = outs["real"], outs["fake"]
    direct = (
        -F.logsigmoid(sr).mean()
        - torch.log(1 - torch.sigmoid(sf)).mean()
        + 0.5 * (ac_class_loss(cr, y) + ac_class_loss(cf, y_fake))
    )
    assert float(loss) == pytest.approx(float(direct), rel=1e-5)
    assert judged.fake[1] is y_fake
    loss_g, _ = gan.g_objective(real, y)
    sf, cf = outs["fake"]
    direct_g = -F.logsigmoid(sf).mean() + 0.5 * ac_class_loss(cf, y_fake)
    assert float(loss_g) == pytest.approx(float(direct_g), rel=1e-5)


def test_infogan_q_gradient_reaches_the_shared_body(cfg_factory):
    _, gan = build(cfg_factory(["model=infogan", *SMALL_IMAGES]))
    assert gan.latent_dim == 62 + 10 + 2
    latent = gan.noise(8, torch.Generator().manual_seed(0))
    cats, cont = gan.codes(latent)
    assert cats[0].shape == (8,) and cont.abs().max() <= 1
    torch.testing.assert_close(gan.latent_from(latent[:, :62], cats, cont), latent)
    _, q = gan.discriminator.heads(gan.generator(latent))
    info, logs = gan.info_terms(q, latent)
    assert {"info_cat", "info_cont", "mi_cat"} <= set(logs)
    body = list(gan.discriminator.body.parameters())
    grads = torch.autograd.grad(info, body + list(gan.generator.parameters()), allow_unused=True)
    assert any(g is not None and g.abs().sum() > 0 for g in grads[: len(body)]), "D's body"
    assert any(g is not None and g.abs().sum() > 0 for g in grads[len(body) :]), "G"
    loss, _, _ = gan.d_objective(torch.randn(8, 1, 16, 16), None)
    loss.backward()
    assert all(p.grad is not None for p in gan.discriminator.aux.parameters())


def test_infogan_traversal_grid_rows_are_categories(cfg_factory):
    _, gan = build(cfg_factory(["model=infogan", *SMALL_IMAGES]))
    gan.eval()
    x = gan.traversal(0, steps=5)
    assert x.shape == (10 * 5, 1, 16, 16)
    assert not torch.allclose(x[0], x[4])  # the swept code changes the image


# --- labelled subsets and semi-supervised batches -----------------------------------------
def test_labels_per_class_is_balanced_and_fixed_by_the_data_seed():
    y = torch.arange(200) % 4
    a, b = labelled_subset(y, 5, seed=0), labelled_subset(y, 5, seed=0)
    assert torch.equal(a, b) and torch.bincount(y[a]).tolist() == [5, 5, 5, 5]
    assert not torch.equal(a, labelled_subset(y, 5, seed=1))
    dm = DigitsDataModule(image_size=8, labels_per_class=3)
    dm.setup()
    batch = next(iter(dm.train_dataloader()))
    assert len(batch) == 5
    x, y_masked, x_lab, y_lab, x_unl2 = batch
    kept = dm.labelled_indices()
    assert torch.bincount(dm.splits["train"][1][kept]).tolist() == [3] * 10
    assert set(y_masked.tolist()) <= set(range(10)) | {-1}
    assert set(y_lab.tolist()) <= set(range(10)) and x_unl2.shape == x.shape
    train_x = dm.splits["train"][0]
    lab_x = train_x[kept]
    assert all((lab_x == xi).flatten(1).all(1).any() for xi in x_lab)  # from the subset only


def test_labels_per_class_above_a_class_size_is_a_one_line_error():
    dm = DigitsDataModule(image_size=8, labels_per_class=1000)
    dm.setup()
    with pytest.raises(DataError, match="labels_per_class") as err:
        dm.train_dataloader()
    assert "\n" not in str(err.value)


def test_toy_mixtures_expose_their_components_as_labels():
    assert ToyDataModule("gauss1d").num_classes == 3
    assert ToyDataModule("checkerboard").num_classes is None
    dm = ToyDataModule("overlap1d", n_train=4000)
    dm.setup()
    x, y = dm.splits["train"]
    assert dm.num_classes == 2 and x.shape == (4000, 1)
    assert float(x[y == 0].mean()) == pytest.approx(-1, abs=0.1)
    assert float(x[y == 1].std()) == pytest.approx(1, abs=0.1)


@pytest.mark.parametrize("model", ["cgan", "acgan", "ssgan"])
def test_a_labelled_model_on_unlabelled_data_is_a_one_line_error(cfg_factory, model):
    with pytest.raises(IncompatibleDataError, match="labelled") as err:
        build(cfg_factory([f"model={model}", "data=checkerboard"]))
    assert "\n" not in str(err.value)


def test_ssgan_accuracy_is_measured_on_held_out_data(cfg_factory):
    cfg = cfg_factory(["model=ssgan", *SMALL_IMAGES, "data.labels_per_class=2"])
    dm, gan = build(cfg)
    dm.setup("fit")
    dm.setup("test")
    gan.eval()
    x, y = dm.splits["test"]
    logged = gan.eval_losses(x, y, torch.Generator().manual_seed(0))
    with torch.no_grad():
        direct = (gan.logits(x).argmax(1) == y).float().mean()
    assert float(logged["acc"]) == pytest.approx(float(direct))
    assert float(logged["error"]) == pytest.approx(1 - float(direct))


def test_ssgan_nonsaturating_generator_loss_is_minus_log_of_d_judging_samples_real(cfg_factory):
    over = ["model=ssgan", *SMALL_IMAGES, "data.labels_per_class=2"]
    dm, gan = build(cfg_factory([*over, "model.generator_loss=nonsaturating"]))
    x = torch.rand(8, *dm.shape) * 2 - 1
    torch.manual_seed(0)
    loss, logs = gan.g_objective(x, None)
    torch.manual_seed(0)
    fake = gan.generator(gan.noise(len(x)))
    # D(x) = Z / (Z + 1) with Z the sum of exp(class logits): the fake logit is fixed at 0
    z = gan.logits(fake).exp().sum(1)
    assert float(loss) == pytest.approx(float(-(z / (z + 1)).log().mean()), rel=1e-5)
    assert logs["g_loss"] is loss and loss.requires_grad


def test_an_unknown_ssgan_generator_loss_is_a_one_line_error(cfg_factory):
    over = ["model=ssgan", *SMALL_IMAGES, "data.labels_per_class=2", "model.generator_loss=l2"]
    with pytest.raises(ConfigError, match="model.generator_loss must be one of") as err:
        build(cfg_factory(over))
    assert "\n" not in str(err.value)


# --- digits: a few steps, the checkpoint round trip, the sample tool ------------------------
@pytest.mark.slow
@pytest.mark.parametrize("model", ["cgan", "acgan", "infogan", "ssgan"])
def test_digits_trains_round_trips_and_samples_by_label(run_main, run_tool, model):
    import numpy as np
    from hydra.utils import get_class

    extra = ["data.labels_per_class=5"] if model == "ssgan" else []
    from tests.conftest import TINY

    args = [*TINY, f"model={model}", *SMALL_IMAGES, *extra, "callbacks.cond_accuracy.n_test=50"]
    res = run_main(args, fast=False)
    assert res.code == 0, res.err[-2000:]
    ckpt = res.run_dir / "checkpoints" / "last.ckpt"
    metrics = json.loads((res.run_dir / "metrics.json").read_text())
    if model in ("cgan", "acgan"):
        assert 0 <= metrics["test/cond_acc"] <= 1
    if model == "ssgan":
        assert 0 <= metrics["test/acc"] <= 1
    target = {"cgan": "GAN", "acgan": "ACGAN", "infogan": "InfoGAN", "ssgan": "SSGAN"}[model]
    cls = get_class(f"gens.gan.{target}")
    a, b = cls.load_from_checkpoint(ckpt), cls.load_from_checkpoint(ckpt)
    z = a.noise(4, torch.Generator().manual_seed(0))
    torch.testing.assert_close(a.sample(4, z=z), b.sample(4, z=z))
    if model in ("cgan", "acgan"):
        out = run_tool("sample", [f"ckpt_path={ckpt}", "n=12", "label=3", "out=threes.npz"])
        assert out.code == 0, out.err
        assert (np.load(res.run_dir.parent / "threes.npz")["y"] == 3).all()
        out = run_tool("sample", [f"ckpt_path={ckpt}", "n=40", "grid=20", "out=all.npz"])
        assert out.code == 0 and (res.run_dir.parent / "all.png").is_file()
    if model == "infogan":
        assert (res.run_dir / "samples" / "traversal_c1.png").is_file()


def test_a_conditional_gan_refuses_hidden_labels(cfg_factory):
    cfg = cfg_factory(["model=cgan", *SMALL_IMAGES, "data.labels_per_class=5"])
    with pytest.raises(ConfigError, match="labels_per_class") as err:
        build(cfg)
    assert "\n" not in str(err.value)
