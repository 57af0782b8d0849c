"""The diffusers side of scripts/check-model-diffusers.sh (run in a venv with torch and diffusers).

MODEL PROMPT STEPS GUIDANCE DIFFUSE_IMAGES BOUND: makes PROMPT's image with diffusers'
StableDiffusionPipeline.from_pretrained(MODEL) at the folder's own size and scheduler (seed 0,
output_type="np") and compares it with Diffuse's (`images` in DIFFUSE_IMAGES); fails above BOUND.
"""
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch  # noqa: E402
from diffusers import StableDiffusionPipeline  # noqa: E402
from diffuse_images import difference, require  # noqa: E402


def main(model, prompt, steps, guidance, diffuse_images, bound):
    pipe = StableDiffusionPipeline.from_pretrained(model, torch_dtype=torch.float32, safety_checker=None,
                                                   requires_safety_checker=False, local_files_only=True)
    with torch.no_grad():
        theirs = torch.from_numpy(pipe(prompt, num_inference_steps=steps, guidance_scale=guidance,
                                       generator=torch.Generator("cpu").manual_seed(0), output_type="np").images)
    d = difference(diffuse_images, theirs)
    print(f"{model} ({type(pipe.scheduler).__name__}, {tuple(theirs.shape[1:3])}): diffusers vs Diffuse, "
          f"\"{prompt}\", {steps} steps, guidance {guidance}: max |diff| {d.max().item():.2e}, mean {d.mean().item():.2e}")
    require(d, bound)


if __name__ == "__main__":
    a = sys.argv[1:]
    main(a[0], a[1], int(a[2]), float(a[3]), a[4], float(a[5]))
