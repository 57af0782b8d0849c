#!/usr/bin/env bash
# Checks a single file of SD 1.5's full size against diffusers (not part of CI): a randomly
# initialised SD 1.5 pipeline (float16) is written in the original LDM layout, loaded by Diffuse
# with no --config and by diffusers' StableDiffusionPipeline.from_single_file(file, config=folder),
# and both make an image from the same seed; they must agree within 5e-3.
#
# Usage: scripts/check-sd15-single-file.sh [WORK_DIR]  (default: a new temporary folder; about 7 GB are written)
#   VENV      a venv with torch, diffusers 0.39, transformers (default /root/venvs/diffusers)
#   CONVERT   diffusers' scripts/convert_diffusers_to_original_stable_diffusion.py from a diffusers
#             checkout (it is not in the pip package). With it, that script writes the LDM file and
#             Diffuse's `convert` must write the same tensors; without it, Diffuse's `convert` writes
#             the file, and from_single_file rebuilding every weight exactly shows its layout is diffusers'.
#   STEPS, SIZE   sampling steps and image size (default 3, 128: SD 1.5 at 512² is ~10 s a U-Net step here)
source "$(dirname "$0")/diffusers-check-common.sh"
steps=${STEPS:-3}; size=${SIZE:-128}; prompt="a photograph of an astronaut riding a horse"
work=${1:-$(mktemp -d /tmp/sd15-single-file.XXXXXX)}
mkdir -p "$work"
helper=scripts/sd15_single_file.py

echo "== 1. a random SD 1.5 pipeline (diffusers folder, float16) in $work"
[ -f "$work/sd15/model_index.json" ] || "$python" "$helper" make "$work/sd15" "$work/sd15-config"

echo "== 2. the single file (original LDM layout)"
rm -f "$work/sd15-diffuse.safetensors"
"$diffuse" convert "$work/sd15" "$work/sd15-diffuse.safetensors"
file="$work/sd15-diffuse.safetensors"
if [ -n "${CONVERT:-}" ]; then
  "$python" "$CONVERT" --model_path "$work/sd15" --checkpoint_path "$work/sd15-diffusers.safetensors" --use_safetensors
  "$python" "$helper" compare "$work/sd15-diffusers.safetensors" "$work/sd15-diffuse.safetensors"
  file="$work/sd15-diffusers.safetensors"
fi
echo "file: $file"
"$diffuse" info "$file"

echo "== 3. diffusers: from_single_file(file, config=folder without weights), $steps steps, ${size}²"
"$python" "$helper" check "$file" "$work/sd15-config" "$work/sd15" "$work/diffusers-images.safetensors" "$prompt" "$steps" "$size"

echo "== 4. Diffuse: --model FILE, no --config"
"$diffuse" generate "$prompt" --model "$file" --steps "$steps" --guidance 7.5 --seed 0 --width "$size" --height "$size" \
  -o "$work/diffuse.png" --output-tensor "$work/diffuse-images.safetensors" --quiet

echo "== 5. the two images"
"$python" "$helper" diff "$work/diffuse-images.safetensors" "$work/diffusers-images.safetensors" 5e-3
echo "ok: $work"
