# Sourced by the scripts that check Diffuse against diffusers (not part of CI): strict mode, the
# repository root, the Python venv with torch and diffusers ($VENV, see the README's single-file
# section), a release build of diffuse, and Hugging Face libraries kept offline.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${VENV:-/root/venvs/diffusers}
python="$venv/bin/python"
[ -x "$python" ] || { echo "error: no Python venv at $venv (see the README's single-file section)" >&2; exit 1; }
diffuse=.build/release/diffuse
[ -x "$diffuse" ] || swift build -c release >&2
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
