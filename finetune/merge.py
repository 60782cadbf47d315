"""A weighted sum of LoRA adapters of one base, written as one LoRA adapter.

Two stages of one training run each know something the other lost (stage 18 learnt the planner
tools and forgot a refusal stage 17 had). Interpolating their weights (a "model soup", as in
WiSE-FT) keeps part of both without training again. For LoRA the sum is exact when the ranks are
stacked rather than the factors averaged: with delta_i = s * B_i A_i,

    w_1 delta_1 + w_2 delta_2 = s * [w_1 B_1 | w_2 B_2] @ [A_1 ; A_2]

so the merged adapter has rank r_1 + r_2 and the same scale s (alpha grows with the rank). Any
runtime that loads a LoRA adapter (peft, llama.cpp) loads it unchanged.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path


class MergeError(ValueError):
    """Adapters that cannot be summed: not LoRA, or other modules, scales or tensors."""


def _config(folder: Path) -> dict:
    path = folder / "adapter_config.json"
    if not path.exists():
        raise MergeError(f"{folder}: holds no adapter_config.json")
    return json.loads(path.read_text())


def _check_compatible(folders: Sequence[Path], configs: Sequence[dict]) -> None:
    first = configs[0]
    for folder, config in zip(folders[1:], configs[1:], strict=True):
        if config.get("peft_type") != "LORA" or first.get("peft_type") != "LORA":
            raise MergeError(f"{folder}: only LoRA adapters can be summed")
        if sorted(config["target_modules"]) != sorted(first["target_modules"]):
            raise MergeError(f"{folder}: targets other modules than {folders[0]}")
        if config["lora_alpha"] / config["r"] != first["lora_alpha"] / first["r"]:
            raise MergeError(f"{folder}: its scale alpha/r differs from {folders[0]}'s")
        if config.get("rank_pattern") or config.get("alpha_pattern"):
            raise MergeError(f"{folder}: per-module ranks are not supported")


def merge_adapters(folders: Sequence[Path], weights: Sequence[float], out: Path) -> Path:
    """Write to ``out`` the adapter whose weight change is sum(w_i * delta_i)."""
    import torch
    from safetensors.torch import load_file, save_file

    if len(folders) < 2 or len(folders) != len(weights):
        raise MergeError("give two or more adapters and one weight for each")
    folders = [Path(f) for f in folders]
    configs = [_config(f) for f in folders]
    _check_compatible(folders, configs)
    tensors = [load_file(str(f / "adapter_model.safetensors")) for f in folders]
    keys = set(tensors[0])
    for folder, t in zip(folders[1:], tensors[1:], strict=True):
        if set(t) != keys:
            raise MergeError(f"{folder}: its tensors differ from {folders[0]}'s")
    merged = {}
    for key in sorted(keys):
        parts = [t[key] for t in tensors]
        if ".lora_A." in key:  # (r, in): stack the ranks
            merged[key] = torch.cat(parts, dim=0).contiguous()
        elif ".lora_B." in key:  # (out, r): each adapter's B carries its weight
            merged[key] = torch.cat(
                [(w * p.float()).to(p.dtype) for w, p in zip(weights, parts, strict=True)], dim=1
            ).contiguous()
        else:
            raise MergeError(f"{folders[0]}: tensor {key} is not a LoRA factor")
    rank = sum(c["r"] for c in configs)
    alpha = configs[0]["lora_alpha"] / configs[0]["r"] * rank
    config = dict(configs[0], r=rank, lora_alpha=int(alpha) if alpha.is_integer() else alpha)
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    save_file(merged, str(partial / "adapter_model.safetensors"))
    (partial / "adapter_config.json").write_text(json.dumps(config, indent=2))
    meta_file = folders[0] / "stockpilot.json"
    meta = json.loads(meta_file.read_text()) if meta_file.exists() else {}
    meta["merged_from"] = [
        {"adapter": str(f), "weight": w} for f, w in zip(folders, weights, strict=True)
    ]
    (partial / "stockpilot.json").write_text(json.dumps(meta, indent=2))
    shutil.rmtree(out, ignore_errors=True)
    partial.rename(out)
    return out
