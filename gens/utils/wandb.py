"""W&B logger that works without an account: offline unless the user is logged in."""

from __future__ import annotations

import netrc
import os
from pathlib import Path

from pytorch_lightning.loggers import WandbLogger

__all__ = ["wandb_logger", "wandb_logged_in"]


def wandb_logged_in() -> bool:
    """True when an API key is available (WANDB_API_KEY or a ~/.netrc entry for W&B)."""
    if os.environ.get("WANDB_API_KEY"):
        return True
    if os.environ.get("WANDB_MODE", "").lower() in ("offline", "disabled"):
        return False
    path = Path(os.environ.get("NETRC", Path.home() / ".netrc"))
    try:
        hosts = netrc.netrc(path).hosts
    except (FileNotFoundError, netrc.NetrcParseError, OSError):
        return False
    return any("wandb" in h for h in hosts)


def wandb_logger(offline: bool | str = "auto", id: str | None = None, **kwargs) -> WandbLogger:
    """``offline="auto"``: online only when logged in. ``id`` resumes that run."""
    if offline == "auto":
        offline = not wandb_logged_in()
    Path(kwargs.get("save_dir") or ".").mkdir(parents=True, exist_ok=True)
    if id is not None:
        kwargs.setdefault("resume", "allow")
    return WandbLogger(offline=bool(offline), id=id, **kwargs)
