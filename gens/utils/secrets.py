"""Keep secrets out of what a run writes (hyper-parameters, checkpoints, logger configs).

gens never dumps the environment. A config may still pull a secret in by interpolation
(``${oc.env:WANDB_API_KEY}``); ``redact`` replaces, in any nested config container, every string
that contains the value of a secret-looking environment variable (name with KEY, TOKEN, SECRET,
PASSWORD or CREDENTIAL, value of 8+ characters) by ``<redacted>``.
"""

from __future__ import annotations

import os
import re
from typing import Any

__all__ = ["secret_values", "redact", "REDACTED"]

REDACTED = "<redacted>"
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)


def secret_values(environ: dict[str, str] | None = None) -> set[str]:
    env = os.environ if environ is None else environ
    return {v for k, v in env.items() if _SECRET_NAME.search(k) and len(v) >= 8}


def redact(obj: Any, secrets: set[str] | None = None) -> Any:
    """A copy of ``obj`` (dicts, lists, tuples, scalars) with secret values replaced."""
    secrets = secret_values() if secrets is None else secrets
    if not secrets:
        return obj
    if isinstance(obj, str):
        return REDACTED if any(s in obj for s in secrets) else obj
    if isinstance(obj, dict):
        return {k: redact(v, secrets) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(redact(v, secrets) for v in obj)
    return obj
