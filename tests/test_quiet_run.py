"""A default run prints what the user needs: no library warning that gens does not list as
known noise (``gens.utils.quiet``), no advertisements, no device banner."""

from __future__ import annotations

import warnings

# the default recipe, with a rejection sampler fitted in a few steps
DEFAULT_SMALL = [
    "model.sampling.rejection.steps=5",
    "model.sampling.rejection.burn_in=200",
    "trainer.log_every_n_steps=1",
]


def test_a_default_run_raises_no_new_warning(run_main):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = run_main(DEFAULT_SMALL)
    assert r.code == 0, r.err[-3000:]
    new = [f"{w.category.__name__}: {w.message} ({w.filename}:{w.lineno})" for w in caught]
    assert not new, "\n".join(new)
    text = r.out + r.err
    for noise in ("💡 Tip", "litlogger", "GPU available", "LeafSpec", "in eval mode"):
        assert noise not in text, noise
