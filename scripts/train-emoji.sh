#!/usr/bin/env bash
# The recipe of the 32-pixel model, models/emoji32 (the shipped model until the 64-pixel one,
# scripts/train-emoji64.sh, which starts from it): the VAE, then the text encoder + U-Net, trained
# on emoji32 with Diffuse's own commands, then copied into models/emoji32 with their logs and loss curves.
# Usage: scripts/train-emoji.sh [WORK_DIR]   (rerun to continue from the last checkpoints;
#        STOP_AFTER / STOP_AFTER_2 end stage 2 / 3 early, in time slices; STOP_AFTER_3 sets where
#        stage 4 ends, 1800 as shipped; the script's steps train the VAE in about 25 minutes
#        and the rest in about six hours on two cores)
source "$(dirname "$0")/train-common.sh"
data=../shared/datasets/emoji32
work=${1:-.build-train/emoji}
mkdir -p "$work"

# 1. VAE: 32×32 RGB → 16×16×4 latents (about 25 minutes on two cores).
if [ ! -f "$work/vae/diffusion_pytorch_model.safetensors" ]; then
  $diffuse train-vae --data "$data" --out "$work/vae" --steps 1000 --batch-size 24 --lr 6e-4 --warmup 50 \
    --checkpoint-every 100 --seed 0 $(resume "$work/vae")
fi

# 2. Text encoder + U-Net, jointly, on the frozen VAE's latents (about 2.1 s a step on two cores).
$diffuse train --data "$data" --vae "$work/vae" --out "$work/pipeline" --tokenizer models/clip-tokenizer \
  --steps 2400 --batch-size 32 --lr 5e-4 --warmup 150 --checkpoint-every 100 --sample-every 600 --seed 0 --fp16 \
  ${STOP_AFTER:+--stop-after $STOP_AFTER} $(resume "$work/pipeline")

# 3. Continued training from step 2's EMA weights: a fresh warm-up, cosine schedule and
#    optimiser, another data order (about 2.2 s a step on two cores). The shipped run was
#    resumed twice with a shorter --steps to fit its session (3000 to step 300, 2800 to
#    step 800, then 2400): the learning rate stepped down a little at each resume.
$diffuse train --data "$data" --vae "$work/vae" --init-from "$work/pipeline" --out "$work/pipeline-2" \
  --tokenizer models/clip-tokenizer --steps 2400 --batch-size 32 --lr 4e-4 --warmup 100 --checkpoint-every 100 \
  --sample-every 500 --seed 1 --fp16 ${STOP_AFTER_2:+--stop-after $STOP_AFTER_2} $(resume "$work/pipeline-2")

# 4. Continued training from step 3's EMA weights with the rare images oversampled: the 1717
#    images without a skin-tone modifier (objects, animals, symbols, flags, and the default
#    yellow of each person) are drawn three times per epoch, the 1694 skin-tone variants once,
#    so an object is seen 1.5x as often as under uniform drawing (about 2.2 s a step on two
#    cores). The shipped run started from models/emoji (now emoji32) as committed after stage 3 (stage 3's
#    weights in fp16, its VAE in fp32) and stopped at step 1800 of the 2400-step schedule to
#    fit its session, which STOP_AFTER_3 defaults to.
$diffuse train --data "$data" --vae "$work/vae" --init-from "$work/pipeline-2" --out "$work/pipeline-3" \
  --tokenizer models/clip-tokenizer --oversample "$data/captions-base.tsv" --oversample-factor 3 \
  --steps 2400 --batch-size 32 --lr 3e-4 --warmup 100 --checkpoint-every 100 --sample-every 800 --seed 2 --fp16 \
  --stop-after "${STOP_AFTER_3:-1800}" $(resume "$work/pipeline-3")

# 5 and 6. Two more passes with the same oversampling at lower peak rates, each from the
#    last one's EMA weights and to the end of its cosine schedule (about 1.9 s a step on two
#    cores): 1200 steps at 2e-4, then 1800 at 1.5e-4. The shipped run's stage 5 started from
#    models/emoji (now emoji32) as committed after stage 4.
$diffuse train --data "$data" --vae "$work/vae" --init-from "$work/pipeline-3" --out "$work/pipeline-4" \
  --tokenizer models/clip-tokenizer --oversample "$data/captions-base.tsv" --oversample-factor 3 \
  --steps 1200 --batch-size 32 --lr 2e-4 --warmup 100 --checkpoint-every 100 --sample-every 600 --seed 3 --fp16 $(resume "$work/pipeline-4")
$diffuse train --data "$data" --vae "$work/vae" --init-from "$work/pipeline-4" --out "$work/pipeline-5" \
  --tokenizer models/clip-tokenizer --oversample "$data/captions-base.tsv" --oversample-factor 3 \
  --steps 1800 --batch-size 32 --lr 1.5e-4 --warmup 100 --checkpoint-every 100 --sample-every 600 --seed 4 --fp16 $(resume "$work/pipeline-5")

# 7. Ship: the pipeline folder plus its training records (not the checkpoints).
rm -rf models/emoji32
mkdir -p models/emoji32/training
cp -r "$work/pipeline-5"/{model_index.json,scheduler,text_encoder,tokenizer,unet,vae} models/emoji32/
for stage in 1 2 3 4 5; do
  from="$work/pipeline"; [ "$stage" -gt 1 ] && from="$work/pipeline-$stage"
  cp "$from/training/diffusion.csv" "models/emoji32/training/diffusion-$stage.csv"
  cp "$from/training/diffusion-loss.png" "models/emoji32/training/diffusion-$stage-loss.png"
  for grid in "$from"/training/samples-*.png; do
    cp "$grid" "models/emoji32/training/samples-$stage-${grid##*/samples-}"
  done
done
cp "$work/vae/training"/{vae.csv,vae-loss.png,vae-summary.txt} models/emoji32/training/

# 8. The quality figures of the README.
$diffuse evaluate --data "$data" --prompts 100 --model models/emoji32 --json models/emoji32/training/evaluation.json \
  --sheet models/emoji32/training/fidelity-sheet.png
