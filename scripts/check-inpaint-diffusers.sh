#!/usr/bin/env bash
# Checks `diffuse inpaint` with an inpainting model (9-channel U-Net) against diffusers'
# StableDiffusionInpaintPipeline (not part of CI): a random inpainting pipeline of SD's topology at
# tiny sizes, written as one LDM file by `diffuse convert`, inpainted by both from the same seed.
# diffusers does not paste the unmasked pixels back and Diffuse does, so the check pastes them into
# diffusers' image too; the images are compared as 8-bit PNGs (at most 1 level apart).
#
# Usage: scripts/check-inpaint-diffusers.sh [WORK_DIR]   (default: a new temporary folder)
#   VENV   a venv with torch, diffusers 0.39, transformers (default /root/venvs/diffusers)
source "$(dirname "$0")/diffusers-check-common.sh"
work=${1:-$(mktemp -d /tmp/inpaint-diffusers.XXXXXX)}
helper=scripts/inpaint_diffusers_check.py
photo=../shared/photos/chelsea-64.png; prompt="a red apple"; steps=4; guidance=5
mkdir -p "$work"
[ -f "$work/inpaint/model_index.json" ] || "$python" "$helper" make "$work/inpaint" "$work/inpaint-config" "$work/mask.png"
rm -f "$work/inpaint.safetensors"
"$diffuse" convert "$work/inpaint" "$work/inpaint.safetensors"
"$diffuse" inpaint "$photo" "$work/mask.png" "$prompt" --model "$work/inpaint.safetensors" --config "$work/inpaint-config" \
  --steps "$steps" --guidance "$guidance" --seed 0 -o "$work/diffuse.png" --quiet
"$python" "$helper" check "$work/inpaint.safetensors" "$work/inpaint-config" "$photo" "$work/mask.png" "$prompt" \
  "$steps" "$guidance" "$work/diffuse.png" 1
echo "ok: $work"
