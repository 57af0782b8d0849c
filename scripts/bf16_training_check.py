"""The verdict and picture of scripts/bf16-training-check.sh: the three runs' losses in windows
of 50 steps, bf16's distance to float32 against the other seed's, and the smoothed curves."""
import csv
import sys

import numpy as np
from PIL import Image, ImageDraw

work, picture, mode = sys.argv[1:4]
runs = {name: np.array([float(row["loss"]) for row in csv.DictReader(open(f"{work}/{name}/training/diffusion.csv"))])
        for name in ("fp32", "bf16", "fp32-seed1")}
steps = min(len(losses) for losses in runs.values())
window = 50
means = {name: losses[:steps - steps % window].reshape(-1, window).mean(axis=1) for name, losses in runs.items()}
print(f"mean loss per {window} steps ({mode} bf16):")
print("  steps        fp32    bf16  fp32 seed 1")
for i in range(len(means["fp32"])):
    print(f"  {i * window + 1:4d}-{(i + 1) * window:4d}  {means['fp32'][i]:.4f}  {means['bf16'][i]:.4f}  {means['fp32-seed1'][i]:.4f}")
bf16_gap = np.abs(means["bf16"] - means["fp32"]).mean()
seed_gap = np.abs(means["fp32-seed1"] - means["fp32"]).mean()
print(f"mean |bf16 - fp32| = {bf16_gap:.5f}; mean |seed 1 - seed 0| (the noise) = {seed_gap:.5f}")

# The curves: a moving average of 25 steps, log loss axis.
width, height, margin = 640, 360, 40
image = Image.new("RGB", (width, height), "white")
draw = ImageDraw.Draw(image)
smooth = {name: np.convolve(np.log10(losses[:steps]), np.ones(25) / 25, mode="valid") for name, losses in runs.items()}
lo, hi = min(s.min() for s in smooth.values()), max(s.max() for s in smooth.values())
colours = {"fp32": (20, 60, 160), "bf16": (210, 60, 50), "fp32-seed1": (150, 150, 150)}
for name, series in smooth.items():
    points = [(margin + i * (width - 2 * margin) / max(1, len(series) - 1),
               margin + (hi - v) / max(hi - lo, 1e-6) * (height - 2 * margin)) for i, v in enumerate(series)]
    draw.line(points, fill=colours[name], width=2)
for row, (name, label) in enumerate([("fp32", "float32, seed 0"), ("bf16", f"bf16 ({mode}), seed 0"),
                                     ("fp32-seed1", "float32, seed 1 (noise)")]):
    draw.text((width - 220, 12 + 14 * row), label, fill=colours[name])
draw.text((margin, 12), f"loss, 25-step mean, log scale: {10 ** hi:.3g} to {10 ** lo:.3g}", fill="black")
draw.text((margin, height - 24), f"steps 1-{steps}", fill="black")
image.save(picture)
print(f"wrote {picture}")
sys.exit(0 if bf16_gap < seed_gap else 1)
