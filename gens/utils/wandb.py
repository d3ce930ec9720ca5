"""W&B logger that works without an account: offline unless the user is logged in."""

from __future__ import annotations

import netrc
import os
from pathlib import Path

from pytorch_lightning.loggers import WandbLogger

from gens.utils.errors import ConfigError

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
    elif not offline and not wandb_logged_in():
        raise ConfigError(
            "logger.wandb.offline=false needs a W&B login and none was found; run `wandb "
            "login` or set WANDB_API_KEY, or leave logger.wandb.offline=auto (offline, sync later)"
        )
    Path(kwargs.get("save_dir") or ".").mkdir(parents=True, exist_ok=True)
    if id is not None:
        kwargs.setdefault("resume", "allow")
    logger = WandbLogger(offline=bool(offline), id=id, **kwargs)
    # Lightning passes anonymous=None on to wandb.init, which then warns that the (removed)
    # setting has no effect
    if getattr(logger, "_wandb_init", {}).get("anonymous", 0) is None:
        del logger._wandb_init["anonymous"]
    return logger
