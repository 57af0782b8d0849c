#!/usr/bin/env bash
# The recipe of models/emoji: the VAE, then the text encoder + U-Net, trained on emoji32 with
# Diffuse's own commands, then copied into models/emoji with their logs and loss curves.
# Usage: scripts/train-emoji.sh [WORK_DIR]   (rerun to continue from the last checkpoints)
set -euo pipefail
cd "$(dirname "$0")/.."
data=../shared/datasets/emoji32
work=${1:-.build-train/emoji}
mkdir -p "$work"
swift build -c release >&2
diffuse=.build/release/diffuse

# 1. VAE: 32×32 RGB → 16×16×4 latents (about 25 minutes on two cores).
if [ ! -f "$work/vae/diffusion_pytorch_model.safetensors" ]; then
  resume=""; [ -f "$work/vae/training/checkpoint.safetensors" ] && resume="--resume"
  $diffuse train-vae --data "$data" --out "$work/vae" --steps 1000 --batch-size 24 --lr 6e-4 --warmup 50 \
    --checkpoint-every 100 --seed 0 $resume
fi

# 2. Text encoder + U-Net, jointly, on the frozen VAE's latents (about 2.1 s a step on two cores).
resume=""; [ -f "$work/pipeline/training/checkpoint.safetensors" ] && resume="--resume"
$diffuse train --data "$data" --vae "$work/vae" --out "$work/pipeline" --tokenizer models/clip-tokenizer \
  --steps 2400 --batch-size 32 --lr 5e-4 --warmup 150 --checkpoint-every 100 --sample-every 600 --seed 0 --fp16 \
  ${STOP_AFTER:+--stop-after $STOP_AFTER} $resume

# 3. Ship: the pipeline folder plus its training records (not the checkpoint).
rm -rf models/emoji
mkdir -p models/emoji/training
cp -r "$work/pipeline"/{model_index.json,scheduler,text_encoder,tokenizer,unet,vae} models/emoji/
cp "$work/pipeline"/training/{diffusion.csv,diffusion-loss.png,samples-*.png} models/emoji/training/
cp "$work/vae/training"/{vae.csv,vae-loss.png,vae-summary.txt} models/emoji/training/
