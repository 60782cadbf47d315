"""The default CPU runtime: llama.cpp (``llama-cpp-python``, extra ``stockpilot[llama]``, which
``make setup`` builds) running the shipped SmolLM2 Q4_1 GGUF with the LoRA adapter applied at run
time.

The adapter was trained on the fp32 weights dequantised from that very GGUF, so the quantised
base plus the fp32 LoRA is the trained model (no second quantisation). The adapter is converted
to llama.cpp's LoRA GGUF once, with the ``gguf`` package (a core dependency), and cached by the
adapter's content id: the tensor layout is the one llama.cpp's own ``convert_lora_to_gguf.py``
writes (checked tensor by tensor against it, see docs/benchmarks.md), so no llama.cpp source
tree is needed at run time.

It speaks the same protocol (the same prompt, ``<tool_call>`` syntax and parser) and decodes
under the same constraints as the torch path (names in calls are verbatim spans of the
conversation; tool names and fixed choices exist; a re-choice holds the call's name): the torch
logits processors, run on llama.cpp's logits. With ``grammar=True`` generation is also constrained by
a GBNF grammar generated from the registry: either a plain answer, or calls whose names are
registry tools and whose arguments are JSON objects with that tool's argument names.

llama-cpp-python has no wheels on PyPI: it compiles (~3.3 min on 2 cores). Build it generic;
the default native build (AVX-512/AMX) crashed at the first token on the test machine:

    CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_AVX512=OFF -DGGML_AMX_INT8=OFF" \\
        pip install llama-cpp-python==0.3.36
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from assistant import limits
from assistant.model.backends import (
    OnToken,
    Reply,
    constraint_inputs,
    parsed,
    protocol_prompt,
)
from assistant.protocol import CALL_CLOSE, CALL_OPEN, IM_END, Turn, render_turn, system_prompt
from tools.registry import ToolSpec

INSTALL_HINT = (
    "model_source 'llama-cpp' needs llama-cpp-python: CMAKE_ARGS=\"-DGGML_NATIVE=OFF "
    '-DGGML_AVX2=ON -DGGML_AVX512=OFF -DGGML_AMX_INT8=OFF" pip install llama-cpp-python==0.3.36'
)
# peft module name -> llama.cpp tensor name
_MODULES = {
    "q_proj": "attn_q",
    "k_proj": "attn_k",
    "v_proj": "attn_v",
    "o_proj": "attn_output",
    "gate_proj": "ffn_gate",
    "up_proj": "ffn_up",
    "down_proj": "ffn_down",
}


# -- the adapter as llama.cpp LoRA GGUF -------------------------------------------------------------
def _permute(weights: np.ndarray, n_head: int) -> np.ndarray:
    """The row order llama.cpp uses for the q/k projections (as convert_hf_to_gguf's LlamaModel)."""
    return (
        weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
        .swapaxes(1, 2)
        .reshape(weights.shape)
    )


def convert_adapter(adapter: Path, base_config: dict, out: Path) -> Path:
    """Write the peft LoRA in ``adapter`` as a llama.cpp LoRA GGUF at ``out``.

    W' = W + alpha/r * B @ A; llama.cpp permutes the rows of q and k, and permuting the rows of
    B @ A is permuting the rows of B, so only lora_b of q/k is permuted."""
    import gguf
    from safetensors.numpy import load_file

    config = json.loads((adapter / "adapter_config.json").read_text())
    if config.get("peft_type") != "LORA":
        raise ValueError(f"adapter_path: {adapter} is {config.get('peft_type')}, not a LoRA")
    heads = int(base_config["num_attention_heads"])
    kv_heads = int(base_config.get("num_key_value_heads", heads))
    writer = gguf.GGUFWriter(str(out) + ".partial", "llama")
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, float(config["lora_alpha"]))
    tensors = load_file(str(adapter / "adapter_model.safetensors"))
    for name in sorted(tensors):
        # base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight
        parts = name.split(".")
        layer, module, kind = int(parts[parts.index("layers") + 1]), parts[-3], parts[-2]
        if module not in _MODULES or kind not in {"lora_A", "lora_B"}:
            raise ValueError(f"adapter_path: {adapter}: cannot convert tensor '{name}'")
        data = tensors[name].astype(np.float32)
        if kind == "lora_B" and module in {"q_proj", "k_proj"}:
            data = _permute(data, heads if module == "q_proj" else kv_heads)
        suffix = "lora_a" if kind == "lora_A" else "lora_b"
        writer.add_tensor(f"blk.{layer}.{_MODULES[module]}.weight.{suffix}", data)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    Path(str(out) + ".partial").rename(out)
    return out


def cached_adapter(adapter: Path, base_config: dict, cache_dir: Path) -> Path:
    """The converted adapter under ``cache_dir``, converted on first use (keyed by content)."""
    from assistant.traces import file_id

    key = file_id(adapter / "adapter_model.safetensors")
    out = Path(cache_dir) / f"{adapter.name}-{key}.lora.gguf"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        convert_adapter(adapter, base_config, out)
    return out


# -- a grammar from the registry --------------------------------------------------------------------
def gbnf(specs: Sequence[ToolSpec]) -> str:
    """GBNF: a plain answer (not starting with '<'), or one or more calls
    ``<tool_call>NAME {JSON}</tool_call>`` whose names are registry tools and whose keys are
    that tool's argument names. Values are any JSON value: the tool's own validation checks them
    and its error goes back to the model, as for every backend."""
    rules = []
    alternatives = []
    for i, spec in enumerate(specs):
        keys = (
            " | ".join(json.dumps(json.dumps(k)) for k in spec.request.model_fields) or '"\\"\\""'
        )
        alternatives.append(f"call{i}")
        rules.append(
            f'call{i} ::= "{spec.name}" " " "{{" ws (key{i} ws ":" ws value ws ("," ws key{i} ws ":" ws value ws)*)? "}}"'
        )
        rules.append(f"key{i} ::= {keys}")
    header = [
        "root ::= calls | answer",
        f'calls ::= ("{CALL_OPEN}" ({" | ".join(alternatives)}) "{CALL_CLOSE}")+',
        "answer ::= [^<] [^\\x00]*",
        'value ::= object | array | string | number | ("true" | "false" | "null")',
        'object ::= "{" ws (string ws ":" ws value ws ("," ws string ws ":" ws value ws)*)? "}"',
        'array ::= "[" ws (value ws ("," ws value ws)*)? "]"',
        'string ::= "\\"" ([^"\\\\\\x7F\\x00-\\x1F] | "\\\\" (["\\\\/bfnrt] | "u" [0-9a-fA-F]{4}))* "\\""',
        'number ::= "-"? ([0-9] | [1-9] [0-9]*) ("." [0-9]+)? ([eE] [-+]? [0-9]+)?',
        "ws ::= [ ]?",
    ]
    return "\n".join(header + rules) + "\n"


# -- the backend ------------------------------------------------------------------------------------
class _OnLlama:
    """A torch logits processor (the copy or the schema constraint) on llama.cpp's numpy
    logits: the same decoding rules as the torch path, one definition."""

    def __init__(self, processor):
        self.processor = processor

    def __call__(self, input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
        import torch

        ids = torch.from_numpy(np.asarray(input_ids, dtype=np.int64))[None]
        out = self.processor(ids, torch.from_numpy(np.array(scores, dtype=np.float32))[None])
        return out[0].numpy()


class LlamaCppBackend:
    name = "llama-cpp"
    chooses_tools = True  # respond(choose_from=...), as the torch LocalBackend

    def __init__(
        self,
        specs: Sequence[ToolSpec],
        adapter: str | None = "shipped",
        cache_dir: Path = Path(".cache/models"),
        threads: int | None = None,
        max_new_tokens: int = 256,
        copy_names: bool = True,
        grammar: bool = False,
        n_ctx: int = 4096,
    ):
        try:
            from llama_cpp import Llama, LlamaGrammar
        except ImportError:
            raise ImportError(INSTALL_HINT) from None
        from assistant.model.loader import (
            EMBEDDED_ID,
            check_adapter_base,
            embedded_gguf,
            materialise_embedded,
            resolve_adapter,
        )

        base = materialise_embedded(Path(cache_dir))  # the tokenizer and config, as torch uses
        from transformers import AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(base)
        adapter_dir = resolve_adapter(adapter)
        lora = None
        if adapter_dir is not None:
            check_adapter_base(adapter_dir, EMBEDDED_ID)
            config = json.loads((base / "config.json").read_text())
            lora = str(cached_adapter(adapter_dir, config, Path(cache_dir)))
        self.adapter = str(adapter_dir) if adapter_dir else None
        self.llm = Llama(
            model_path=str(embedded_gguf()),
            lora_path=lora,
            n_ctx=n_ctx,
            n_threads=threads or 2,
            n_batch=512,
            verbose=False,
        )
        self.max_new_tokens, self.copy_names = max_new_tokens, copy_names
        self.grammar = LlamaGrammar.from_string(gbnf(specs), verbose=False) if grammar else None
        self._lock = threading.Lock()
        self._warm(render_turn(Turn("system", system_prompt(specs))))

    def _tokens(self, text: str) -> list[int]:
        return self.llm.tokenize(text.encode(), add_bos=False, special=True)

    def _warm(self, prefix: str) -> None:
        """Prefill the constant system prompt once: llama.cpp keeps the previous prompt's state
        and reuses its longest common prefix, so each request only prefills the conversation
        (a cold 500-token prefill costs more than the whole answer)."""
        self.llm.create_completion(self._tokens(prefix), max_tokens=1, temperature=0)

    def respond(
        self,
        turns: Sequence[Turn],
        specs: Sequence[ToolSpec],
        on_token: OnToken = None,
        choose_from: Sequence[str] | None = None,
        must_call: bool = False,
    ) -> Reply:
        """As LocalBackend.respond: names in calls are copied verbatim, tool names and fixed
        choices are ones that exist, and ``choose_from`` holds a call's name to those tools (with
        ``must_call``, the reply is a call)."""
        from llama_cpp import LogitsProcessorList

        from assistant.model.copy_constraint import CopySpans
        from assistant.model.schema_constraint import SchemaChoices

        started = time.perf_counter()
        prompt = protocol_prompt(turns, specs)
        prompt_ids = self._tokens(prompt)
        sources, held = constraint_inputs(turns, specs, self.copy_names, choose_from)
        schema = (
            SchemaChoices(self.tokenizer, len(prompt_ids), held, must_call=must_call)
            if held
            else None
        )
        steer = CopySpans(self.tokenizer, len(prompt_ids), sources) if sources else None
        processors = LogitsProcessorList([_OnLlama(p) for p in (schema, steer) if p])
        pieces = []
        stopped = limits.stop_check()  # a client gone or a deadline passed: stop at the next token
        with self._lock:
            stream = self.llm.create_completion(
                prompt_ids,
                max_tokens=self.max_new_tokens,
                temperature=0,
                top_k=1,
                repeat_penalty=1.0,
                stop=[IM_END],
                stream=True,
                logits_processor=processors,
                grammar=self.grammar,
            )
            try:
                for chunk in stream:
                    piece = chunk["choices"][0]["text"]
                    pieces.append(piece)
                    if on_token and piece:
                        on_token(piece)
                    if stopped():
                        break
            finally:
                stream.close()  # ends llama.cpp's generation before the lock is released
        text = "".join(pieces)
        stats = {
            "seconds": time.perf_counter() - started,
            "prompt_tokens": len(prompt_ids),
            "completion_tokens": len(self.llm.tokenize(text.encode(), add_bos=False)) + 1,
        }
        if steer is not None and steer.steered:
            stats["copy_steered_tokens"] = steer.steered
        if schema is not None and schema.steered:
            stats["schema_steered_tokens"] = schema.steered
        return parsed(text, stats)
