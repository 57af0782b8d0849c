#!/usr/bin/env bash
# The recipe of the 64-pixel emoji model (issue 25): a VAE with two down-samplings (64 px →
# 16×16×4 latents, so the U-Net and its cost per step stay those of the 32-px model), then the
# U-Net on its latents, conditioned by the 32-px model's text encoder, kept fixed, and a short
# last stage on partial captions, so that new combinations of the words vary across seeds.
# Usage: scripts/train-emoji64.sh [WORK_DIR]   (rerun to continue from the last checkpoints;
#        STOP_AFTER ends stage 2 early, in time slices; SHIP=1 then replaces models/emoji)
source "$(dirname "$0")/train-common.sh"
data=../shared/datasets/emoji64
work=${1:-.build-train/emoji64}
mkdir -p "$work"
# The 32-px model, whose text encoder and U-Net this one starts from: models/emoji32 once this
# model has shipped, models/emoji before.
emoji32=${INIT_FROM:-$([ -d models/emoji32 ] && echo models/emoji32 || echo models/emoji)}

# 0. The text encoder of the 32-px model (trained on the same 3411 captions), copied once: it
#    stays fixed, so the shipped 64-px model carries the same one.
if [ ! -f "$work/text-encoder/config.json" ]; then
  mkdir -p "$work/text-encoder"
  cp "$emoji32"/text_encoder/* "$work/text-encoder/"
fi

# 1. VAE: 64×64 RGB → 16×16×4 latents, channels 32/64/128 (about 2.3 s a step on two cores).
#    1a: 1500 steps from scratch (held-out PSNR 26.1 dB mean, 22.3 dB p10, loss still falling);
#    1b: 2500 more from 1a's weights on a fresh cosine schedule, toward 28 / 23 dB.
if [ ! -f "$work/vae-1/diffusion_pytorch_model.safetensors" ]; then
  $diffuse train-vae --data "$data" --resolution 64 --config scripts/emoji64/vae-config.json --out "$work/vae-1" \
    --steps 1500 --batch-size 24 --lr 6e-4 --warmup 50 --checkpoint-every 100 --seed 0 $(resume "$work/vae-1")
fi
if [ ! -f "$work/vae/diffusion_pytorch_model.safetensors" ]; then
  $diffuse train-vae --data "$data" --resolution 64 --init-from "$work/vae-1" --out "$work/vae" \
    --steps 2500 --batch-size 24 --lr 4e-4 --warmup 100 --checkpoint-every 100 --seed 1 $(resume "$work/vae")
fi

# 2. U-Net on the frozen VAE's latents, with the fixed text encoder, from the 32-px model's U-Net
#    (the same 3-level U-Net on 16×16×4 latents). Its latents are another VAE's,
#    so the denoising is relearnt, but what the words mean for the picture carries over: the
#    32-px model took about 12,000 steps from scratch to its fidelity.
if ! finished "$work/pipeline" 4000; then
  $diffuse train --data "$data" --resolution 64 --vae "$work/vae" --text-encoder "$work/text-encoder" \
    --init-from "$emoji32" --out "$work/pipeline" --tokenizer models/clip-tokenizer \
    --steps 4000 --batch-size 32 --lr 5e-4 --warmup 150 --checkpoint-every 100 --sample-every 500 --seed 0 --fp16 \
    ${STOP_AFTER:+--stop-after $STOP_AFTER} $(resume "$work/pipeline")
  finished "$work/pipeline" 4000 || exit 0  # stopped early (STOP_AFTER): rerun to go on
fi

# 3. Partial captions, from stage 2's pipeline. Each caption of the set names one image, so
#    stage 2's model drew one picture per caption whatever the seed: diversity 0.154 on new
#    combinations of the words. Here half the captions are cut to a random subset of their
#    words ("apple" fits the red and the green apple), so where the words leave room the
#    noise chooses. Measured on the 20 new captions and 100 fidelity captions:
#      step  500: diversity 0.288, 1 copy,  fidelity 0.89 / 0.95  <- shipped
#      step 1000: diversity 0.262, 4 copies, fidelity 0.88 / 0.92
#      step 1500: diversity 0.232, 4 copies, fidelity 0.91 / 0.93
#    so the stage stops at step 500 of its 1500-step schedule (about 15 min on two cores).
if ! finished "$work/pipeline-3" 500; then
  $diffuse train --data "$data" --resolution 64 --vae "$work/vae" --text-encoder "$work/text-encoder" \
    --init-from "$work/pipeline" --out "$work/pipeline-3" --tokenizer models/clip-tokenizer \
    --steps 1500 --stop-after 500 --batch-size 32 --lr 2e-4 --warmup 50 --checkpoint-every 100 --sample-every 500 \
    --seed 2 --fp16 --partial-captions 0.5 --ema-decay 0.997 $(resume "$work/pipeline-3")
fi

# 4. Ship (SHIP=1): stage 3's pipeline folder plus the training records of every stage (not
#    the checkpoints), then the figures of the README: VAE PSNR, fidelity on 100 captions,
#    diversity on 20 new ones.
[ "${SHIP:-0}" = 1 ] || exit 0
finished "$work/pipeline-3" 500 || { echo "error: stage 3 has not finished" >&2; exit 1; }
# The 32-px model stays, as models/emoji32: a rerun of this recipe starts from it.
if [ -d models/emoji32 ]; then rm -rf models/emoji; else mv models/emoji models/emoji32; fi
mkdir -p models/emoji/training
cp -r "$work/pipeline-3"/{model_index.json,scheduler,text_encoder,tokenizer,unet,vae} models/emoji/
cp "$work/pipeline/training"/{diffusion.csv,diffusion-loss.png} "$work/pipeline/training"/samples-*.png models/emoji/training/
for file in "$work/pipeline-3/training"/{diffusion.csv,diffusion-loss.png,samples-*.png}; do
  name=$(basename "$file")
  cp "$file" "models/emoji/training/stage3-$name"  # stage3-diffusion.csv, stage3-samples-000500.png, …
done
for stage in vae-1 vae; do
  for file in vae.csv vae-loss.png vae-summary.txt; do
    cp "$work/$stage/training/$file" "models/emoji/training/${stage}${file#vae}"  # vae-1.csv, vae-loss.png, …
  done
done
$diffuse evaluate --data "$data" --prompts 100 --model models/emoji --json models/emoji/training/evaluation.json \
  --sheet models/emoji/training/fidelity-sheet.png --diversity-prompts scripts/emoji-novel-prompts.txt \
  --diversity-sheet models/emoji/training/diversity-sheet.png
