"""The debug configs (``debug=fdr|limit|overfit|profiler``) run: callbacks and loggers
switched off, the config printed, a summary at the end."""

from __future__ import annotations

import logging

import pytest

SMALL = ["model=gan", "data=ring8", "data.n_train=2000", "data.n_val=500", "data.n_test=500"]


@pytest.fixture(autouse=True)
def _root_log_level():
    """The debug configs set the root logger to DEBUG; later in-process runs of this test
    process must not log Hydra's start-up at that level to a stream pytest has closed."""
    level = logging.getLogger().level
    yield
    logging.getLogger().setLevel(level)


@pytest.mark.parametrize(
    "debug",
    [
        "fdr",
        "limit",
        pytest.param("overfit", marks=pytest.mark.slow),
        pytest.param("profiler", marks=pytest.mark.slow),
    ],
)
def test_debug_config_runs(run_main, debug):
    r = run_main([*SMALL, f"debug={debug}"], fast=False)
    assert r.code == 0, (r.out + r.err)[-3000:]
    assert not r.error_lines
    assert "callbacks" in r.out and "gens: final metrics" in r.out


def test_fast_dev_run_fits_the_rejection_sampler_for_one_step(run_main, monkeypatch):
    """The default model samples by rejection: a fast_dev_run fits that sampler for one step,
    not for the configured thousands."""
    from gens.sampling.rejection import DiscriminatorRejection

    steps = []
    fit = DiscriminatorRejection._fit

    def recorded(self, real, propose, version, n):
        steps.append(n)
        return fit(self, real, propose, version, n)

    monkeypatch.setattr(DiscriminatorRejection, "_fit", recorded)
    r = run_main([*SMALL[2:], "debug=fdr"], fast=False)
    assert r.code == 0, (r.out + r.err)[-3000:]
    assert steps == [1]
