"""The diffusers side of scripts/check-sd15-single-file.sh (run in a venv with torch + diffusers).

make FOLDER CONFIG_FOLDER: a randomly initialised pipeline of SD 1.5's full size (U-Net and VAE from
  ../shared/bench/configs, CLIP ViT-L/14 text encoder, PNDM as SD 1.5 ships it) saved as a float16
  diffusers folder, and the same folder without weights (the `config=` of from_single_file).
compare A.safetensors B.safetensors: two LDM files hold the same keys, shapes and values.
check FILE CONFIG_FOLDER FOLDER OUT.safetensors PROMPT STEPS SIZE: loads FILE with
  StableDiffusionPipeline.from_single_file(FILE, config=CONFIG_FOLDER), checks that every weight equals
  FOLDER's exactly, then writes the image it makes (output_type="np") to OUT as `images`.
diff A.safetensors B.safetensors BOUND: the largest difference of the two files' `images`; fails above BOUND.
"""
import json
import os
import shutil
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import numpy as np  # noqa: E402
import torch  # noqa: E402
from safetensors import safe_open  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = os.path.join(REPO, "..", "shared", "bench", "configs")

# SD 1.5's text_encoder/config.json (CLIP ViT-L/14's text tower) and scheduler_config.json.
TEXT_CONFIG = dict(vocab_size=49408, hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
                   num_attention_heads=12, max_position_embeddings=77, hidden_act="quick_gelu",
                   projection_dim=768, layer_norm_eps=1e-5, bos_token_id=0, eos_token_id=2, pad_token_id=1)
SCHEDULER_CONFIG = dict(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                        trained_betas=None, skip_prk_steps=True, set_alpha_to_one=False, steps_offset=1,
                        prediction_type="epsilon")


def make(folder, config_folder):
    from diffusers import AutoencoderKL, PNDMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    def config(name):
        with open(os.path.join(CONFIGS, name, "config.json")) as f:
            return {k: v for k, v in json.load(f).items() if not k.startswith("_")}

    torch.manual_seed(0)
    unet = UNet2DConditionModel.from_config(config("sd15-unet"))
    vae = AutoencoderKL.from_config(config("sd15-vae"))
    text_encoder = CLIPTextModel(CLIPTextConfig(**TEXT_CONFIG))
    tokenizer = CLIPTokenizer.from_pretrained(os.path.join(REPO, "models", "clip-tokenizer"))
    pipe = StableDiffusionPipeline(vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet,
                                   scheduler=PNDMScheduler(**SCHEDULER_CONFIG), safety_checker=None,
                                   feature_extractor=None, requires_safety_checker=False)
    pipe.to(torch.float16)  # as SD 1.5 files are shared; both sides then compute in float32
    pipe.save_pretrained(folder, safe_serialization=True)
    shutil.copytree(folder, config_folder, ignore=shutil.ignore_patterns("*.safetensors", "*.bin"))
    count = sum(p.numel() for m in (unet, vae, text_encoder) for p in m.parameters())
    print(f"random SD 1.5 pipeline: {count:,} weights (U-Net {sum(p.numel() for p in unet.parameters()):,})")


def compare(a_path, b_path):
    with safe_open(a_path, "pt") as a, safe_open(b_path, "pt") as b:
        a_keys, b_keys = set(a.keys()), set(b.keys())
        if a_keys != b_keys:
            sys.exit(f"error: key sets differ: only in {a_path}: {sorted(a_keys - b_keys)[:5]}, "
                     f"only in {b_path}: {sorted(b_keys - a_keys)[:5]}")
        for key in sorted(a_keys):
            x, y = a.get_tensor(key), b.get_tensor(key)
            if x.shape != y.shape or x.dtype != y.dtype or not torch.equal(x, y):
                sys.exit(f"error: {key} differs: {tuple(x.shape)} {x.dtype} vs {tuple(y.shape)} {y.dtype}")
    print(f"the two LDM files hold the same {len(a_keys)} tensors (keys, shapes, dtypes, values)")


def check(file, config_folder, folder, out, prompt, steps, size):
    from diffusers import StableDiffusionPipeline

    pipe = StableDiffusionPipeline.from_single_file(file, config=config_folder, torch_dtype=torch.float32,
                                                    local_files_only=True, safety_checker=None,
                                                    requires_safety_checker=False)
    compared = 0
    for name, weights in [("unet", "diffusion_pytorch_model"), ("vae", "diffusion_pytorch_model"),
                          ("text_encoder", "model")]:
        state = getattr(pipe, name).state_dict()
        with safe_open(os.path.join(folder, name, weights + ".safetensors"), "pt") as original:
            keys = set(original.keys()) - {"text_model.embeddings.position_ids"}
            loaded = set(state.keys()) - {"text_model.embeddings.position_ids"}
            if keys != loaded:
                sys.exit(f"error: {name}: from_single_file built other keys: missing {sorted(keys - loaded)[:5]}, "
                         f"extra {sorted(loaded - keys)[:5]}")
            for key in keys:
                if not torch.equal(original.get_tensor(key).float(), state[key]):
                    sys.exit(f"error: {name}.{key}: from_single_file's weight differs from the folder's")
            compared += len(keys)
    print(f"from_single_file rebuilt all {compared} weights of the folder exactly; scheduler "
          f"{type(pipe.scheduler).__name__}")
    generator = torch.Generator("cpu").manual_seed(0)
    with torch.no_grad():
        images = pipe(prompt, num_inference_steps=steps, guidance_scale=7.5, height=size, width=size,
                      generator=generator, output_type="np").images
    save_file({"images": torch.from_numpy(np.ascontiguousarray(images)).float()}, out)


def diff(a_path, b_path, bound):
    with safe_open(a_path, "pt") as a, safe_open(b_path, "pt") as b:
        x, y = a.get_tensor("images"), b.get_tensor("images")
    if x.shape != y.shape:
        sys.exit(f"error: image shapes differ: {tuple(x.shape)} vs {tuple(y.shape)}")
    d = (x - y).abs()
    inside = ((y > 0) & (y < 1)).float().mean().item()  # values not clipped to 0 or 1
    print(f"images {tuple(x.shape)}: max |diff| {d.max().item():.2e}, median {d.median().item():.2e} "
          f"({inside:.0%} of values inside (0, 1), value range {y.min().item():.3f}..{y.max().item():.3f})")
    if not d.max().item() <= bound:
        sys.exit(f"error: the images differ by more than {bound}")


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command == "make":
        make(*args)
    elif command == "compare":
        compare(*args)
    elif command == "check":
        check(args[0], args[1], args[2], args[3], args[4], int(args[5]), int(args[6]))
    elif command == "diff":
        diff(args[0], args[1], float(args[2]))
    else:
        sys.exit(f"error: unknown command {command}")
