"""The MLP building blocks: maxout units (Goodfellow et al. 2013)."""

import torch

from gens.nets.mlp import Maxout


def test_maxout_is_the_max_over_each_group_of_pieces_and_grads_reach_the_winner():
    torch.manual_seed(0)
    m = Maxout(3, 4, pieces=5)
    x = torch.randn(6, 3)
    y = m(x)
    lin = x @ m.linear.weight.t() + m.linear.bias  # (6, 20): units o * 5 .. o * 5 + 4
    groups = lin.view(6, 4, 5)
    torch.testing.assert_close(y, groups.max(dim=-1).values)
    # d y[i, o] / d bias: 1 for the winning piece of unit o, 0 for the other pieces
    y[2, 1].backward()
    expected = torch.zeros(20)
    expected[1 * 5 + int(groups[2, 1].argmax())] = 1.0
    torch.testing.assert_close(m.linear.bias.grad, expected)
