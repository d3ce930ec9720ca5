"""The commands README.md shows, and how a test runs each with a tiny budget.

Commands are the lines of ``bash`` code blocks (without their ``# comments``) and the inline
code spans that start with ``python``, ``gens-`` or ``make``. Templates that stand for a family
of commands (``python scripts/<tool>.py``, ``python -m benchmarks.<name>``, an elided ``...``)
are listed by ``is_template`` and checked through the commands they stand for.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"

__all__ = ["Command", "readme_commands", "first_values", "cap_sweep"]

TOOLS = {
    "gens-sample": "sample",
    "gens-evaluate": "evaluate",
    "gens-interpolate": "interpolate",
    "gens-train-classifier": "train_classifier",
}
# what a command that needs a machine this suite does not have is checked by: composed
GPU_OR_CLUSTER = (
    "trainer=gpu",
    "trainer=ddp",
    "trainer=ddp_per_optimizer",
    "hydra/launcher=slurm",
)


@dataclass(frozen=True)
class Command:
    text: str

    @property
    def words(self) -> list[str]:
        # a placeholder is one word even where it reads as prose (<file.npz or folder>)
        text = re.sub(r"<[^>]*>", lambda m: m.group(0).replace(" ", "_"), self.text)
        return shlex.split(text)

    @property
    def kind(self) -> str:
        w = self.words
        if w[0] == "make":
            return "make"
        if w[:2] == ["python", "train.py"] or w[0] == "gens-train":
            return "train"
        if w[0] in TOOLS or (w[0] == "python" and w[1].startswith("scripts/")):
            return "tool"
        if w[:2] == ["python", "-m"] and w[2].startswith("benchmarks."):
            return "benchmark"
        return "other"

    @property
    def args(self) -> list[str]:
        w = self.words
        if self.kind == "train":
            return w[2:] if w[0] == "python" else w[1:]
        if self.kind == "tool":
            return w[2:] if w[0] == "python" else w[1:]
        if self.kind == "benchmark":
            return w[3:]
        return w[1:]

    @property
    def tool(self) -> str:
        w = self.words
        return TOOLS[w[0]] if w[0] in TOOLS else Path(w[1]).stem

    @property
    def benchmark(self) -> str:
        return self.words[2].split(".", 1)[1]

    @property
    def multirun(self) -> bool:
        return "-m" in self.words

    @property
    def needs_gpu_or_cluster(self) -> bool:
        return any(a in GPU_OR_CLUSTER for a in self.args)

    @property
    def is_template(self) -> bool:
        return "..." in self.text or re.search(r"<(tool|name)>", self.text) is not None


def _strip_comment(line: str) -> str:
    return re.split(r"\s+#\s", line, maxsplit=1)[0].strip()


def readme_commands(text: str | None = None) -> list[Command]:
    """Every command README.md shows, in order, without repeats."""
    text = README.read_text() if text is None else text
    found: list[str] = []
    fenced = re.findall(r"```(\w*)\n(.*?)```", text, re.S)
    for lang, block in fenced:
        if lang in ("bash", "sh", ""):
            found += [_strip_comment(ln) for ln in block.splitlines() if _strip_comment(ln)]
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    for span in re.findall(r"`([^`\n]+)`", prose):
        span = span.replace("\\|", "|").strip()
        if re.match(r"(python |gens-[a-z-]+( |$)|make [a-z])", span):
            found.append(span)
    seen, out = set(), []
    for cmd in found:
        if cmd not in seen:
            seen.add(cmd)
            out.append(Command(cmd))
    return out


def _split_top_level(value: str) -> list[str]:
    """``a,b,[c,d]`` -> ``["a", "b", "[c,d]"]``: commas outside brackets separate values."""
    parts, depth, cur = [], 0, ""
    for ch in value:
        depth += ch in "[({"
        depth -= ch in "])}"
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    return [*parts, cur]


def _sweep_values(arg: str) -> tuple[str, list[str]] | None:
    if "=" not in arg or arg.startswith("-"):
        return None
    key, value = arg.split("=", 1)
    values = _split_top_level(value)
    return (key, values) if len(values) > 1 else None


def first_values(args: list[str]) -> list[str]:
    """A sweep's overrides as one job: the first value of every swept key, no ``-m``."""
    out = []
    for arg in args:
        if arg == "-m":
            continue
        sweep = _sweep_values(arg)
        out.append(f"{sweep[0]}={sweep[1][0]}" if sweep else arg)
    return out


def cap_sweep(args: list[str]) -> list[str]:
    """A sweep of at most two jobs: the first swept key keeps two values, the others one."""
    out, capped = [], False
    for arg in args:
        sweep = _sweep_values(arg)
        if sweep and not capped:
            out.append(f"{sweep[0]}={','.join(sweep[1][:2])}")
            capped = True
        elif sweep:
            out.append(f"{sweep[0]}={sweep[1][0]}")
        else:
            out.append(arg)
    if any(a.startswith("hparams_search=") for a in args):
        out.append("hydra.sweeper.n_trials=2")
    return out
