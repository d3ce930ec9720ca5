#!/usr/bin/env bash
# The prepared GPU check (benchmarks/gpu.py): on a machine with one NVIDIA GPU, set up gens as
# the README says and measure framework overhead, host syncs per step and throughput, in under
# 8 minutes; writes docs/benchmarks/gpu.md and docs/benchmarks/gpu_results.json. Nothing is
# downloaded but the packages of the set-up (fake data, randomly initialized InceptionV3).
#
#   bash benchmarks/gpu.sh            # the full check (needs a GPU)
#   bash benchmarks/gpu.sh --dry-run  # every part on the CPU, tiny shapes (logs/benchmarks/)
set -euo pipefail
cd "$(dirname "$0")/.."

dry=0
for a in "$@"; do [[ "$a" == "--dry-run" ]] && dry=1; done
if [[ $dry == 0 ]] && ! { command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; }; then
  echo "benchmarks/gpu.sh: no NVIDIA GPU on this machine; nothing measured"
  exit 0
fi

# The set-up of the README (make install: .venv with gens editable), unless a Python that
# already has gens' dependencies is at hand (GENS_PYTHON, or the one on PATH).
py="${GENS_PYTHON:-}"
if [[ -z "$py" ]]; then
  if [[ -x .venv/bin/python ]]; then
    py=.venv/bin/python
  elif python3 -c "import torch, pytorch_lightning, hydra, torchmetrics, torch_fidelity" 2>/dev/null; then
    py=python3
  else
    make install
    py=.venv/bin/python
  fi
fi
if [[ $dry == 0 ]] && ! "$py" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
  echo "benchmarks/gpu.sh: $py has no CUDA-enabled torch for this GPU; nothing measured"
  exit 0
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
exec timeout 900 "$py" -m benchmarks.gpu "$@"
