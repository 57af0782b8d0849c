#!/usr/bin/env bash
# Checks that a LoRA trained by Diffuse loads in diffusers unchanged and gives Diffuse's image
# (not part of CI): train-lora on the tiny fixture pipeline (U-Net and text encoder adapters, four
# emoji, a high learning rate so the adapters matter), then the same prompt and seed through
# `diffuse generate --lora` and through diffusers' `pipe.load_lora_weights(file)`; within 5e-3.
#
# Usage: scripts/check-lora-diffusers.sh [WORK_DIR]   (default: a new temporary folder)
#   VENV   a venv with torch, diffusers 0.39, transformers and peft (default /root/venvs/diffusers)
source "$(dirname "$0")/diffusers-check-common.sh"
pipeline=../shared/fixtures/diffusers-tiny
work=${1:-$(mktemp -d /tmp/lora-diffusers.XXXXXX)}
prompt="a sks icon"; steps=4; guidance=5; size=64
mkdir -p "$work/data"
for i in 00100 00101 00102 00103; do cp "../shared/datasets/emoji32/$i.png" "$work/data/"; done

rm -rf "$work/sks.safetensors" "$work/sks-training"
"$diffuse" train-lora --model "$pipeline" --data "$work/data" --caption "$prompt" --targets unet+text \
  --steps 30 --lr 1e-2 --sample-every 0 --out "$work/sks.safetensors" --quiet
"$diffuse" info "$work/sks.safetensors"
"$diffuse" generate "$prompt" --model "$pipeline" --lora "$work/sks.safetensors" --steps "$steps" --guidance "$guidance" \
  --seed 0 --width "$size" --height "$size" -o "$work/diffuse.png" --output-tensor "$work/diffuse.safetensors" --quiet
"$python" scripts/lora_diffusers_check.py "$pipeline" "$work/sks.safetensors" "$prompt" "$steps" \
  "$guidance" "$size" "$work/diffuse.safetensors" 5e-3
echo "ok: $work"
