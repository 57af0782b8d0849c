#!/usr/bin/env bash
# Regenerates everything in samples/ with the shipped model (models/emoji, 64×64).
# DIFFUSE=PATH uses a binary already built (say, the tests' build) instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."
diffuse=${DIFFUSE:-.build/release/diffuse}
[ -n "${DIFFUSE:-}" ] || swift build -c release >&2
photos=../shared/photos
out=samples
mkdir -p "$out"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# 64 captions of the training set (every 53rd line of captions.tsv), one image each, seed 0.
tail -n +2 ../shared/datasets/emoji64/captions.tsv | awk 'NR % 53 == 1' | cut -f2 | head -64 > "$out/gallery-prompts.txt"
$diffuse gallery "$out/gallery-prompts.txt" -o "$out/gallery.png" --quiet

# The forward process on a photo: latent and pixel space side by side.
$diffuse noise "$photos/astronaut-64.png" --t 0,100,250,500,750,999 -o "$scratch/ladder.png" --quiet
cp "$scratch/ladder.png" "$out/noise-ladder.png"

# Noise to t = 500, then denoise back.
$diffuse noise "$photos/rocket-64.png" --t 500 --save-latents "$scratch/z500.safetensors" -o "$out/noised-500.png" --quiet
$diffuse denoise "$scratch/z500.safetensors" -o "$out/denoised-500.png" --quiet

# Image to image.
$diffuse img2img "$photos/coffee-64.png" "hot beverage" --strength 0.7 -o "$out/img2img.png" --quiet

# Inside a generation: the model's clean-image guess per step, and where each word looked.
$diffuse generate "red apple" --trajectory "$out/trajectory.png" --attention-maps "$out/attention-maps.png" \
  -o "$out/red-apple.png" --quiet
$diffuse encode "$photos/chelsea-64.png" --latents-png "$out/latents.png" > "$out/latents.txt"

# Inpainting: repaint the mouth area (white in samples/inpaint-mask.png, a kept input) of a face.
$diffuse generate "grinning face" -o "$out/inpaint-input.png" --quiet
$diffuse inpaint "$out/inpaint-input.png" "$out/inpaint-mask.png" "face with tongue" -o "$out/inpainted.png" --quiet
echo "samples written to $out/" >&2
