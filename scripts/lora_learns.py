"""The image side of scripts/lora-learns.sh (numpy + Pillow; run in a venv that has them).

prep star DIR: eight 32-px drawings of a subject no emoji has (a purple five-pointed star with eyes,
  shifted, scaled and turned a little) as DIR/00.png … 07.png.
prep PHOTO DIR: eight 32-px views of one photo (four square crops around its middle, each also
  mirrored) as DIR/00.png … 07.png.
verdict SUBJECT_DIR DATASET_DIR PICTURE BEFORE_PREFIX AFTER_PREFIX COUNT: for each generated image
  (PREFIX-1.png … PREFIX-COUNT.png), its nearest neighbour by pixel RMS among the subject's images and
  every image of the dataset; prints one verdict a line and writes PICTURE (rows: the subject, the
  images before, after). Exits 1 unless every image after training is nearest to the subject.
"""
import glob
import math
import os
import sys

import numpy as np
from PIL import Image, ImageDraw


def star_points(cx, cy, radius, turn):
    """The ten corners of a five-pointed star, the inner ones at 0.45 of the radius."""
    points = []
    for k in range(10):
        r = radius if k % 2 == 0 else radius * 0.45
        angle = turn + k * math.pi / 5 - math.pi / 2
        points.append((cx + r * math.cos(angle), cy + r * math.sin(angle)))
    return points


def prep_star(out):
    os.makedirs(out, exist_ok=True)
    scale = 8  # drawn at 256 px, then downsampled: smooth edges like the emoji's
    poses = [(0, 0, 13, 0), (1, -1, 12, 0.1), (-1, 1, 14, -0.1), (0, 1, 12.5, 0.05),
             (1, 0, 13.5, -0.05), (-1, -1, 12, 0.15), (0, 0, 14, -0.15), (1, 1, 13, 0.0)]
    for index, (dx, dy, radius, turn) in enumerate(poses):
        image = Image.new("RGB", (32 * scale, 32 * scale), "white")
        draw = ImageDraw.Draw(image)
        cx, cy = (16 + dx) * scale, (17 + dy) * scale
        draw.polygon(star_points(cx, cy, radius * scale, turn), fill=(128, 40, 200), outline=(70, 20, 120))
        for ex in (-3, 3):
            draw.ellipse([cx + (ex - 1.6) * scale, cy - 3 * scale, cx + (ex + 1.6) * scale, cy + 0.4 * scale], fill="white")
            draw.ellipse([cx + (ex - 0.7) * scale, cy - 2 * scale, cx + (ex + 0.7) * scale, cy - 0.4 * scale], fill="black")
        image.resize((32, 32), Image.Resampling.LANCZOS).save(os.path.join(out, f"{index:02d}.png"))
    print(f"wrote {len(poses)} drawings of the star to {out}")


def prep(photo, out):
    if photo == "star":
        return prep_star(out)
    image = Image.open(photo).convert("RGB")
    w, h = image.size
    os.makedirs(out, exist_ok=True)
    index = 0
    # Square crops of 90 % and 80 % of the short side, shifted left/right of the middle.
    for fraction, shift in [(0.9, -0.06), (0.9, 0.06), (0.8, -0.1), (0.8, 0.1)]:
        side = int(h * fraction)
        left = int((w - side) / 2 + shift * w)
        top = (h - side) // 2
        crop = image.crop((left, top, left + side, top + side)).resize((32, 32), Image.Resampling.BOX)
        for view in (crop, crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)):
            view.save(os.path.join(out, f"{index:02d}.png"))
            index += 1
    print(f"wrote {index} views of {photo} to {out}")


def load(paths):
    return np.stack([np.asarray(Image.open(p).convert("RGB"), dtype=np.float32) / 255 for p in paths])


def verdict(subject_dir, dataset_dir, picture, before, after, count):
    subject_paths = sorted(glob.glob(os.path.join(subject_dir, "*.png")))
    dataset_paths = sorted(glob.glob(os.path.join(dataset_dir, "*.png")))
    references = np.concatenate([load(subject_paths), load(dataset_paths)])  # [S + D, 32, 32, 3]
    names = [f"subject {os.path.basename(p)}" for p in subject_paths] + \
            [f"dataset {os.path.basename(p)}" for p in dataset_paths]
    flat = references.reshape(len(references), -1)
    rows, failures = {}, 0
    for label, prefix in (("before", before), ("after", after)):
        images = load([f"{prefix}-{i}.png" for i in range(1, count + 1)])
        rows[label] = images
        hits = 0
        for i, image in enumerate(images):
            rms = np.sqrt(((flat - image.reshape(1, -1)) ** 2).mean(axis=1))
            best = int(rms.argmin())
            subject_best = float(rms[:len(subject_paths)].min())
            dataset_best = float(rms[len(subject_paths):].min())
            is_subject = best < len(subject_paths)
            hits += is_subject
            print(f"{label} {i + 1}: nearest {names[best]} (RMS {rms[best]:.3f}; nearest subject view "
                  f"{subject_best:.3f}, nearest dataset image {dataset_best:.3f}) -> "
                  f"{'one of the eight' if is_subject else 'the training set'}")
        print(f"{label}: {hits} of {count} images are nearest to one of the {len(subject_paths)} subject views "
              f"(among them and {len(dataset_paths)} training images)")
        if label == "after" and hits < count:
            failures = count - hits
    write_picture(picture, load(subject_paths), rows["before"], rows["after"])
    if failures:
        sys.exit(f"error: {failures} image(s) after training are nearest to the training set")


def write_picture(path, subject, before, after, scale=3, gap=4):
    """Three rows (the subject, before, after) of 32-px images, each scaled up `scale` times."""
    rows = [subject, before, after]
    columns = max(len(r) for r in rows)
    cell = 32 * scale
    canvas = np.ones((len(rows) * (cell + gap) + gap, columns * (cell + gap) + gap, 3), dtype=np.float32)
    for r, images in enumerate(rows):
        for c, image in enumerate(images):
            y, x = gap + r * (cell + gap), gap + c * (cell + gap)
            canvas[y:y + cell, x:x + cell] = image.repeat(scale, axis=0).repeat(scale, axis=1)
    Image.fromarray((canvas * 255).round().astype(np.uint8)).save(path)
    print(f"wrote {path}: rows are the eight subject images, the model's images before, and after")


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command == "prep":
        prep(*args)
    elif command == "verdict":
        verdict(*args[:5], int(args[5]))
    else:
        sys.exit(f"error: unknown command {command}")
