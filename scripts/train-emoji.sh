#!/usr/bin/env bash
# The recipe of models/emoji: trains the VAE, then the text encoder + U-Net, on emoji32, with
# Diffuse's own commands. Usage: scripts/train-emoji.sh [WORK_DIR]   (resumable: rerun to continue)
set -euo pipefail
cd "$(dirname "$0")/.."
data=../shared/datasets/emoji32
work=${1:-.build-train/emoji}
mkdir -p "$work"
swift build -c release >&2
diffuse=.build/release/diffuse
resume=""; [ -f "$work/vae/training/checkpoint.safetensors" ] && resume="--resume"

# 1. VAE: 32×32 RGB → 16×16×4 latents.
if [ ! -f "$work/vae/diffusion_pytorch_model.safetensors" ]; then
  $diffuse train-vae --data "$data" --out "$work/vae" --steps 1000 --batch-size 24 --lr 6e-4 --warmup 50 \
    --checkpoint-every 100 --seed 0 $resume
fi

# 2. Text encoder + U-Net, jointly, on the frozen VAE's latents.
resume=""; [ -f "$work/pipeline/training/checkpoint.safetensors" ] && resume="--resume"
$diffuse train --data "$data" --vae "$work/vae" --out "$work/pipeline" --steps "${UNET_STEPS:-3000}" \
  --batch-size 32 --lr 5e-4 --warmup 200 --checkpoint-every 100 --sample-every 500 --seed 0 --fp16 $resume
