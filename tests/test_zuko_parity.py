"""Our RealNVP against zuko's coupling flow with the same weights: the same log-density.

The benchmark (benchmarks.flows, section zuko) compares the two libraries trained from
their own initializations; this test pins down that the difference it measures is training
noise, not a difference in what the two flows compute. Our coupling uses zuko's scale
parameterization here (``log s = a / (1 + |a / log 1e-3|)``) by swapping ``_params``.
"""

from __future__ import annotations

import math
from functools import partial

import pytest
import torch

from gens.flows import FlowModel, realnvp
from gens.flows.transforms import coupling as cp

zuko = pytest.importorskip("zuko")


def _zuko_params(self, x_cond, context):
    s_raw, t = self.net(cp.merge_context(x_cond, context)).chunk(2, dim=1)
    return s_raw / (1 + (s_raw / math.log(1e-3)).abs()), t


def test_realnvp_with_zukos_weights_matches_zuko(monkeypatch):
    monkeypatch.setattr(cp.Coupling, "_params", _zuko_params)
    torch.manual_seed(0)
    theirs = zuko.flows.RealNVP(3, transforms=4, hidden_features=(16, 16))
    ours = FlowModel(partial(realnvp, layers=4, hidden=(16, 16)), None, data_shape=(3,))
    layers = [m for m in ours.transform.modules() if isinstance(m, cp.Coupling)]
    assert len(layers) == len(theirs.transform.transforms) == 4
    for z_layer, o_layer in zip(theirs.transform.transforms, layers):
        # same partition: zuko's mask marks the conditioning features
        assert torch.equal(z_layer.mask.nonzero()[:, 0], o_layer.cond_idx)
        z_lin = [m for m in z_layer.hyper if isinstance(m, zuko.nn.Linear)]
        o_lin = [m for m in o_layer.net.modules() if isinstance(m, torch.nn.Linear)]
        for a, b in zip(z_lin, o_lin, strict=True):
            w, bias = a.weight.detach(), a.bias.detach()
            if b is o_layer.net.out:  # zuko interleaves (shift, scale) per feature; ours (s, t)
                k = w.shape[0] // 2
                order = torch.cat([torch.arange(k) * 2 + 1, torch.arange(k) * 2])
                w, bias = w[order], bias[order]
            b.weight.data.copy_(w)
            b.bias.data.copy_(bias)
    x = torch.randn(64, 3) * 2
    torch.testing.assert_close(ours.log_prob(x), theirs().log_prob(x), atol=1e-5, rtol=1e-5)
