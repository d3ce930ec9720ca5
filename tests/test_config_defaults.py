"""One source of defaults: a callback config states the same defaults as its Python class, so
instantiating the class by hand gives what a run gets."""

from __future__ import annotations

import inspect

import pytest
from hydra.utils import get_class
from omegaconf import OmegaConf

from tests.helpers.configs import CONFIG_DIR


def _entries():
    for path in sorted((CONFIG_DIR / "callbacks").glob("*.yaml")):
        for name, node in OmegaConf.load(path).items():
            if isinstance(node, dict) or OmegaConf.is_dict(node):
                target = node.get("_target_", "")
                if target.startswith("gens."):
                    yield pytest.param(target, node, id=f"{path.stem}:{name}")


def _parameters(cls) -> dict[str, inspect.Parameter]:
    """The keyword arguments of ``cls``, through the bases its ``**kwargs`` forward to."""
    out = {}
    for klass in reversed(cls.__mro__):
        init = klass.__dict__.get("__init__")
        if init is not None:
            out.update(inspect.signature(init).parameters)
    return out


@pytest.mark.parametrize("target,node", list(_entries()))
def test_callback_yaml_values_equal_the_python_defaults(target, node):
    params = _parameters(get_class(target))
    for key in node:
        if key.startswith("_") or OmegaConf.is_interpolation(node, key):
            continue
        assert key in params, f"{target} has no argument {key}"
        default = params[key].default
        if default is inspect.Parameter.empty:
            continue
        value = OmegaConf.to_object(node[key]) if OmegaConf.is_config(node[key]) else node[key]
        assert value == default, f"{target}.{key}: YAML {value!r}, Python {default!r}"
