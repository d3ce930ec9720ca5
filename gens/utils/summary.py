"""End-of-run console output: the config tree and a table of final metrics and files."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.utilities import rank_zero_only

__all__ = ["print_config", "print_summary"]


@rank_zero_only
def print_config(cfg: DictConfig) -> None:
    from rich.console import Console
    from rich.syntax import Syntax
    from rich.tree import Tree

    tree = Tree("config", guide_style="dim")
    for key in ("data", "model", "trainer", "callbacks", "logger", "paths"):
        if key not in cfg:
            continue
        node = cfg[key]
        # a group switched off (debug configs set callbacks/logger to null) is a plain value
        text = OmegaConf.to_yaml(node, resolve=False) if OmegaConf.is_config(node) else f"{node}"
        tree.add(key).add(Syntax(text, "yaml"))
    Console().print(tree)


@rank_zero_only
def print_summary(metrics: dict[str, float], output_dir: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="gens: final metrics", show_lines=False)
    table.add_column("metric")
    table.add_column("value", justify="right")
    shown = {k: v for k, v in metrics.items() if k.startswith(("test/", "val/"))}
    for k in sorted(shown, key=lambda k: (not k.startswith("test/"), k)):
        table.add_row(k, f"{shown[k]:.4g}")
    console = Console()
    console.print(table)
    console.print(f"run directory: {output_dir}")
    for name in ("metrics.json", "checkpoints/last.ckpt", "samples/final.png"):
        if (output_dir / name).exists():
            console.print(f"  {name}")
