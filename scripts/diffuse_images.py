"""Diffuse's images (`generate --output-tensor`) against diffusers' for the diffusers checks."""
import sys

from safetensors import safe_open


def difference(diffuse_images, theirs):
    """|Diffuse − diffusers| per value, after checking both are [N, H, W, 3] of the same size."""
    with safe_open(diffuse_images, "pt") as f:
        ours = f.get_tensor("images")
    if ours.shape != theirs.shape:
        sys.exit(f"error: image shapes differ: Diffuse {tuple(ours.shape)}, diffusers {tuple(theirs.shape)}")
    return (ours - theirs).abs()


def require(d, bound):
    if not d.max().item() <= bound:
        sys.exit(f"error: the images differ by more than {bound}")
