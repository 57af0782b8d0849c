"""The diffusers side of scripts/check-lora-diffusers.sh (run in a venv with torch, diffusers, peft).

PIPELINE LORA PROMPT STEPS GUIDANCE SIZE DIFFUSE_IMAGES BOUND: makes PROMPT's image with diffusers'
StableDiffusionPipeline.from_pretrained(PIPELINE) and load_lora_weights(LORA) unchanged (seed 0,
output_type="np"), and compares it with Diffuse's (`images` in DIFFUSE_IMAGES); fails above BOUND.
"""
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch  # noqa: E402
from diffusers import StableDiffusionPipeline  # noqa: E402
from diffuse_images import difference, require  # noqa: E402


def main(pipeline, lora, prompt, steps, guidance, size, diffuse_images, bound):
    pipe = StableDiffusionPipeline.from_pretrained(pipeline, torch_dtype=torch.float32, safety_checker=None,
                                                   requires_safety_checker=False, local_files_only=True)

    def image():
        with torch.no_grad():
            return torch.from_numpy(pipe(prompt, num_inference_steps=steps, guidance_scale=guidance, height=size,
                                         width=size, generator=torch.Generator("cpu").manual_seed(0),
                                         output_type="np").images)

    base = image()
    # The file as it is; offline, diffusers wants its folder and name given apart.
    pipe.load_lora_weights(os.path.dirname(os.path.abspath(lora)), weight_name=os.path.basename(lora))
    adapted = image()
    d = difference(diffuse_images, adapted)
    print(f"diffusers + load_lora_weights vs Diffuse --lora: max |diff| {d.max().item():.2e}, "
          f"median {d.median().item():.2e}; the LoRA moves diffusers' image by up to "
          f"{(adapted - base).abs().max().item():.3f} (mean {(adapted - base).abs().mean().item():.3f})")
    require(d, bound)


if __name__ == "__main__":
    a = sys.argv[1:]
    main(a[0], a[1], a[2], int(a[3]), float(a[4]), int(a[5]), a[6], float(a[7]))
