#!/usr/bin/env bash
# Checks that a model folder Diffuse trained loads in diffusers unchanged and gives Diffuse's
# image (not part of CI): one prompt and seed at the model's own size and sampler through
# `diffuse generate` and through diffusers' StableDiffusionPipeline.from_pretrained; within 2e-3
# (about half an 8-bit level).
#
# Usage: scripts/check-model-diffusers.sh [MODEL] [PROMPT]   (default: models/emoji, "red apple")
#   STEPS, GUIDANCE   as `generate` takes them (default 10, 7.5: its defaults)
#   SAMPLER           a `--scheduler` name instead of the folder's own (diffusers gets the same class and keys)
#   VENV              a venv with torch, diffusers 0.39 and transformers (default /root/venvs/diffusers)
source "$(dirname "$0")/diffusers-check-common.sh"
model=${1:-models/emoji}
prompt=${2:-red apple}
steps=${STEPS:-10}; guidance=${GUIDANCE:-7.5}
work=$(mktemp -d /tmp/model-diffusers.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$diffuse" generate "$prompt" --model "$model" --steps "$steps" --guidance "$guidance" --seed 0 \
  ${SAMPLER:+--scheduler "$SAMPLER"} -o "$work/diffuse.png" --output-tensor "$work/diffuse.safetensors" --quiet
"$python" scripts/model_diffusers_check.py "$model" "$prompt" "$steps" "$guidance" "$work/diffuse.safetensors" 2e-3 ${SAMPLER:-}
