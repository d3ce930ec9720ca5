"""The harnesses that measure gens and write ``docs/benchmarks/*.md``.

Each runs from the repository root as ``python -m benchmarks.<name>`` (``--help`` for its
options); ``benchmarks.common`` holds what they share, including the rule for where a page goes:
a full run writes ``docs/benchmarks/``, any other run ``logs/benchmarks/`` unless ``--publish``
or ``--out`` is given. ``make benchmarks`` reruns them all (long).
"""
