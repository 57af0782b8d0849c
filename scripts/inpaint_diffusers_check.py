"""The diffusers side of scripts/check-inpaint-diffusers.sh (run in a venv with torch + diffusers).

make FOLDER CONFIG_FOLDER MASK: a random inpainting pipeline (a 9-channel U-Net) with SD's topology
  at the sizes of ../shared/fixtures/single-file/sd1 and SD's PNDM sampler, as a diffusers folder;
  the same folder without weights; and a 64×64 mask whose left half is white (repaint).
check FILE CONFIG_FOLDER IMAGE MASK PROMPT STEPS GUIDANCE DIFFUSE_PNG BOUND: runs
  StableDiffusionInpaintPipeline.from_single_file(FILE, config=CONFIG_FOLDER) (seed 0), keeps the
  image's pixels outside the mask as Diffuse does, and compares with Diffuse's PNG in 0..255 levels.
"""
import json
import os
import shutil
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SD1 = os.path.join(REPO, "..", "shared", "fixtures", "single-file", "sd1")
PNDM = dict(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
            skip_prk_steps=True, set_alpha_to_one=False, steps_offset=1, prediction_type="epsilon")


def make(folder, config_folder, mask_path):
    from diffusers import AutoencoderKL, PNDMScheduler, StableDiffusionInpaintPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    def config(name):
        with open(os.path.join(SD1, name, "config.json")) as f:
            return {k: v for k, v in json.load(f).items() if not k.startswith("_")}

    torch.manual_seed(0)
    unet = UNet2DConditionModel.from_config({**config("unet"), "in_channels": 9})
    text = config("text_encoder")
    text = CLIPTextModel(CLIPTextConfig(**{k: v for k, v in text.items() if k not in ("architectures", "dtype")}))
    pipe = StableDiffusionInpaintPipeline(vae=AutoencoderKL.from_config(config("vae")), text_encoder=text,
                                          tokenizer=CLIPTokenizer.from_pretrained(os.path.join(SD1, "tokenizer")),
                                          unet=unet, scheduler=PNDMScheduler(**PNDM), safety_checker=None,
                                          feature_extractor=None, requires_safety_checker=False)
    pipe.save_pretrained(folder, safe_serialization=True)
    shutil.copytree(folder, config_folder, ignore=shutil.ignore_patterns("*.safetensors", "*.bin"))
    mask = np.zeros((64, 64, 3), dtype=np.uint8)
    mask[:, :32] = 255
    Image.fromarray(mask).save(mask_path)


def check(file, config_folder, image_path, mask_path, prompt, steps, guidance, diffuse_png, bound):
    from diffusers import StableDiffusionInpaintPipeline

    pipe = StableDiffusionInpaintPipeline.from_single_file(file, config=config_folder, torch_dtype=torch.float32,
                                                           local_files_only=True, safety_checker=None,
                                                           requires_safety_checker=False)
    image, mask = Image.open(image_path).convert("RGB"), Image.open(mask_path).convert("RGB")
    with torch.no_grad():
        out = pipe(prompt, image=image, mask_image=mask, height=64, width=64, num_inference_steps=steps,
                   guidance_scale=guidance, generator=torch.Generator("cpu").manual_seed(0), output_type="np").images[0]
    m = (np.asarray(mask.convert("L"), dtype=np.float32) / 255)[..., None]
    original = np.asarray(image, dtype=np.float32) / 255
    kept = m * out + (1 - m) * original                    # Diffuse keeps the pixels outside the mask
    ours = np.asarray(Image.open(diffuse_png).convert("RGB"), dtype=np.float32)
    levels = np.abs(np.round(kept * 255) - ours)
    inside = levels[m[..., 0] > 0.5]
    print(f"inpainting U-Net (in_channels {pipe.unet.config.in_channels}), {steps} steps: Diffuse's PNG vs diffusers' "
          f"image in 0..255 levels: max {levels.max():.0f}, mean {inside.mean():.3f} inside the mask; diffusers' "
          f"repainted half differs from the photo by {np.abs(out - original)[m[..., 0] > 0.5].mean():.3f} (mean)")
    if levels.max() > bound:
        sys.exit(f"error: the images differ by more than {bound} levels")


if __name__ == "__main__":
    command, a = sys.argv[1], sys.argv[2:]
    if command == "make":
        make(*a)
    elif command == "check":
        check(a[0], a[1], a[2], a[3], a[4], int(a[5]), float(a[6]), a[7], float(a[8]))
    else:
        sys.exit(f"error: unknown command {command}")
