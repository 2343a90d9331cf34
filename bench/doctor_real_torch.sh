#!/usr/bin/env bash
# The doctor on a real PyTorch stack from PyPI (not in CI: it downloads about 5 GB).
#
#   bench/doctor_real_torch.sh [VENV_DIR]      (default: $TMPDIR/hermetic-real-torch)
#
# Installs the default `torch` wheel (today a CUDA 13 build with ~15 nvidia-* wheels and
# triton) into a fresh venv, unless VENV_DIR already has it, then runs the doctor four ways:
# plain (this machine), against a supported target, against driver 535, and against sm_61.
# HERMETIC overrides the command (e.g. HERMETIC="python -m hermetic" with another checkout).
set -uo pipefail
venv="${1:-${TMPDIR:-/tmp}/hermetic-real-torch}"
hermetic="${HERMETIC:-hermetic}"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import importlib.util,sys; sys.exit(importlib.util.find_spec("torch") is None)' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q torch
fi
torch_version=$("$venv/bin/python" - <<'PY'
import re, pathlib, sys
sp = next(pathlib.Path(sys.prefix).glob("lib/python3*/site-packages"))
text = (sp / "torch/version.py").read_text()
print(re.search(r"__version__\s*=\s*'([^']+)'", text).group(1))
PY
)
echo "== torch $torch_version in $venv ($(du -sh "$venv" | cut -f1))"
run() {
  echo
  echo "== hermetic doctor --prefix $venv $*"
  start=$(date +%s.%N)
  $hermetic doctor --prefix "$venv" "$@"
  rc=$?
  echo "(exit $rc, $(echo "$(date +%s.%N) - $start" | bc) s)"
}
run
run --driver 580.95.05 --gpu sm_90
run --driver 535.104.05 --gpu sm_90
run --driver 580.95.05 --gpu sm_61
