#!/usr/bin/env bash
# Does mixed-precision training (--precision bf16) follow float32? The first STEPS steps of the
# emoji recipe's first stage (text encoder + U-Net on emoji32, batch 32, models/emoji32's VAE),
# three times: float32 with seed 0, bf16 with seed 0, and float32 with seed 1, whose distance to
# seed 0 is the run-to-run noise. Exits 1 unless bf16's windowed mean losses stay nearer to
# float32's than the other seed's do. Writes samples/bf16-training.png (the three curves). On a
# CPU without AVX-512 BF16 the bf16 run is emulated (bf16's numerics, float32's speed or less).
# Not part of CI (tens of minutes of training).
#
# Usage: scripts/bf16-training-check.sh [WORK_DIR]   (default: a new temporary folder)
#   STEPS   steps of each run (default 200)
#   VENV    a venv with numpy and Pillow (default /root/venvs/diffusers)
source "$(dirname "$0")/diffusers-check-common.sh"
work=${1:-$(mktemp -d /tmp/bf16-training.XXXXXX)}
steps=${STEPS:-200}
native=$(grep -q -w avx512_bf16 /proc/cpuinfo && echo 1 || echo 0)
[ "$native" = 1 ] || export DIFFUSE_BF16_EMULATE=1

run() {  # NAME PRECISION SEED
  [ -f "$work/$1/training/diffusion.csv" ] && [ "$(($(wc -l < "$work/$1/training/diffusion.csv") - 1))" -ge "$steps" ] && return
  "$diffuse" train --data ../shared/datasets/emoji32 --vae models/emoji32 --out "$work/$1" --tokenizer models/clip-tokenizer \
    --steps 2400 --stop-after "$steps" --batch-size 32 --lr 5e-4 --warmup 150 --sample-every 0 --seed "$3" \
    --precision "$2" $( [ -f "$work/$1/training/checkpoint.safetensors" ] && echo --resume )
}
run fp32 fp32 0
run bf16 bf16 0
run fp32-seed1 fp32 1
"$python" scripts/bf16_training_check.py "$work" samples/bf16-training.png "$([ "$native" = 1 ] && echo native || echo emulated)"
