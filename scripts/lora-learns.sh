#!/usr/bin/env bash
# Does train-lora teach the 32-px model (models/emoji32) a subject it has never seen? Eight 32-px
# images of one subject, all captioned alike, `train-lora` with its defaults; then the caption's
# images before and after, each with its nearest neighbour (pixel RMS) among the eight and all of
# emoji32. Exits 1 unless every image after training is nearest to one of the eight. Writes
# samples/lora-learns.png (rows: the eight, before, after). Not part of CI (minutes of training).
#
# Usage: scripts/lora-learns.sh [WORK_DIR]   (default: a new temporary folder)
#   SUBJECT  star (default: eight drawings of a purple star with eyes, "a sks star") or photo
#            (eight views of ../shared/photos/chelsea.png, a cat, "a sks cat photo")
#   VENV     a venv with numpy and Pillow (default /root/venvs/diffusers)
#   COUNT    images generated before and after (default 8)
source "$(dirname "$0")/diffusers-check-common.sh"
work=${1:-$(mktemp -d /tmp/lora-learns.XXXXXX)}
count=${COUNT:-8}
case ${SUBJECT:-star} in
  star) source_images=star; caption="a sks star" ;;
  photo) source_images=../shared/photos/chelsea.png; caption="a sks cat photo" ;;
  *) echo "error: SUBJECT must be star or photo, got ${SUBJECT}" >&2; exit 2 ;;
esac
mkdir -p "$work"

"$python" scripts/lora_learns.py prep "$source_images" "$work/data"
"$diffuse" generate "$caption" --model models/emoji32 --count "$count" --seed 0 -o "$work/before.png" --quiet
[ -f "$work/sks.safetensors" ] || nice -n 10 "$diffuse" train-lora --model models/emoji32 --data "$work/data" \
  --caption "$caption" --out "$work/sks.safetensors"
"$diffuse" generate "$caption" --model models/emoji32 --lora "$work/sks.safetensors" --count "$count" --seed 0 \
  -o "$work/after.png" --quiet
"$python" scripts/lora_learns.py verdict "$work/data" ../shared/datasets/emoji32 samples/lora-learns.png \
  "$work/before" "$work/after" "$count"
