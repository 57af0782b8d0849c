"""The diffusers side of scripts/check-model-diffusers.sh (run in a venv with torch and diffusers).

MODEL PROMPT STEPS GUIDANCE DIFFUSE_IMAGES BOUND [SAMPLER]: makes PROMPT's image with diffusers'
StableDiffusionPipeline.from_pretrained(MODEL) at the folder's own size and scheduler, or the
scheduler Diffuse's --scheduler SAMPLER names (seed 0, output_type="np"), and compares it with
Diffuse's (`images` in DIFFUSE_IMAGES); fails above BOUND.
"""
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch  # noqa: E402
import diffusers  # noqa: E402
from diffusers import StableDiffusionPipeline  # noqa: E402
from diffuse_images import difference, require  # noqa: E402


# Diffuse's sampler names (Sources/Schedulers/SamplerName.swift): class and the config keys it forces.
DPMPP_2M = {"algorithm_type": "dpmsolver++", "solver_order": 2}
SAMPLERS = {
    "ddim": ("DDIMScheduler", {}),
    "pndm": ("PNDMScheduler", {}),
    "euler": ("EulerDiscreteScheduler", {"use_karras_sigmas": False}),
    "euler-karras": ("EulerDiscreteScheduler", {"use_karras_sigmas": True}),
    "euler-a": ("EulerAncestralDiscreteScheduler", {}),
    "dpm++2m": ("DPMSolverMultistepScheduler", {**DPMPP_2M, "use_karras_sigmas": False}),
    "dpm++2m-karras": ("DPMSolverMultistepScheduler", {**DPMPP_2M, "use_karras_sigmas": True}),
    "dpm++2m-sde": ("DPMSolverMultistepScheduler", {**DPMPP_2M, "algorithm_type": "sde-dpmsolver++", "use_karras_sigmas": False}),
    "dpm++2m-sde-karras": ("DPMSolverMultistepScheduler", {**DPMPP_2M, "algorithm_type": "sde-dpmsolver++", "use_karras_sigmas": True}),
    "lms": ("LMSDiscreteScheduler", {}),
    "heun": ("HeunDiscreteScheduler", {}),
    "lcm": ("LCMScheduler", {}),
    "ddpm": ("DDPMScheduler", {}),
}


def main(model, prompt, steps, guidance, diffuse_images, bound, sampler=None):
    pipe = StableDiffusionPipeline.from_pretrained(model, torch_dtype=torch.float32, safety_checker=None,
                                                   requires_safety_checker=False, local_files_only=True)
    if sampler:
        class_name, overrides = SAMPLERS[sampler]
        pipe.scheduler = getattr(diffusers, class_name).from_config(pipe.scheduler.config, **overrides)
    with torch.no_grad():
        theirs = torch.from_numpy(pipe(prompt, num_inference_steps=steps, guidance_scale=guidance,
                                       generator=torch.Generator("cpu").manual_seed(0), output_type="np").images)
    d = difference(diffuse_images, theirs)
    print(f"{model} ({type(pipe.scheduler).__name__}, {tuple(theirs.shape[1:3])}): diffusers vs Diffuse, "
          f"\"{prompt}\", {steps} steps, guidance {guidance}: max |diff| {d.max().item():.2e}, mean {d.mean().item():.2e}")
    require(d, bound)


if __name__ == "__main__":
    a = sys.argv[1:]
    main(a[0], a[1], int(a[2]), float(a[3]), a[4], float(a[5]), a[6] if len(a) > 6 else None)
