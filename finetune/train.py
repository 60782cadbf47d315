"""LoRA / AdaLoRA fine-tuning of the base model on the generated tool-use data.

Read top to bottom: config -> model + adapter -> tokenised examples -> training loop -> adapter.
The system prompt (tool list) is the same in every example, so each step computes its keys
and values once and shares them across the batch: same loss and gradients, about half the time.
A continued stage can be held to the stage it starts from where that stage is already right
(``distill``): learning without forgetting, so teaching new tools does not unteach old ones.
"""

from __future__ import annotations

import copy
import json
import random
import re
import time
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from tqdm import tqdm

from assistant.model.backends import protocol_prompt
from assistant.model.staff_words import model_view
from assistant.protocol import IM_END, Turn, render_turn, system_prompt, turn_body
from finetune.data import Example, load_split
from tools.registry import agent_tools

IGNORE = -100


def default_peft() -> dict:
    """LoRA r=16 on all seven projections: the shipped adapter's configuration."""
    return {
        "peft_type": "LORA",
        "r": 16,
        "lora_alpha": 32,
        "lora_dropout": 0.05,
        "target_modules": [
            "q_proj",
            "k_proj",
            "v_proj",
            "o_proj",
            "gate_proj",
            "up_proj",
            "down_proj",
        ],
    }


@dataclass
class TrainConfig:
    base: str = "embedded"  # 'embedded', a local HF folder, or 'tiny' (random model for tests)
    data_dir: str = "finetune/generated"
    output_dir: str = "assistant/adapters/stockpilot-lora"
    # peft's own configuration, as the TOML table [peft]: any field of LoraConfig or
    # AdaLoraConfig, read by peft.get_peft_config (task_type and AdaLoRA's total_step are
    # filled in from the run).
    peft: dict = field(default_factory=default_peft)
    learning_rate: float = 1e-3
    warmup_steps: int = 20
    steps: int = 400
    batch_size: int = 8
    max_tokens: int = 448  # conversation + target, after the shared system prefix
    # A batch of long answers is run in slices of at most this many tokens (gradients
    # accumulated), which bounds memory whatever batch_size and max_tokens are.
    max_batch_tokens: int = 2048
    # Draw some kinds more often, e.g. {answer = 2}: rare but long.
    repeat_kinds: dict[str, int] = field(default_factory=dict)
    # Draw examples whose template id contains a key more often, e.g. {"what_if/" = 3}: a
    # short stage sees a new tool's examples often enough to learn it.
    repeat_templates: dict[str, int] = field(default_factory=dict)
    # Leave out examples whose template id matches this regular expression (re.search), e.g.
    # phrasings a continued stage should not see again.
    drop_templates: str | None = None
    seed: int = 0
    threads: int | None = None
    save_every: int = 50
    # Validation loss on dev.jsonl every eval_interval steps (and at the end); the adapter
    # written is the step with the lowest one (nanoGPT's best-checkpoint rule). 0: no dev.
    eval_interval: int = 50
    dev_limit: int | None = None  # score only the first N dev examples (time)
    # Continue from an existing adapter (a second stage), optionally focused on some example
    # kinds with an equal-sized replay of the rest so that earlier skills are kept.
    init_adapter: str | None = None
    focus_kinds: list[str] | None = None
    # Weight of the distillation term of a continued stage: on every example the init adapter
    # already answers right (its greedy tokens are the target), the KL divergence from its
    # distribution to the new one at the target tokens is added to the loss. 0: plain training.
    distill: float = 0.0

    @classmethod
    def from_toml(cls, path: str | Path, **overrides) -> TrainConfig:
        values = tomllib.loads(Path(path).read_text())
        unknown = set(values) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"{path}: unknown keys {sorted(unknown)}")
        return cls(**{**values, **{k: v for k, v in overrides.items() if v is not None}})

    def peft_config(self):
        """The peft config object (LoraConfig, AdaLoraConfig, ...) built by peft itself."""
        from peft import get_peft_config

        values = {"task_type": "CAUSAL_LM", **self.peft}
        if str(values.get("peft_type", "")).upper() == "ADALORA":
            values.setdefault("total_step", self.steps)
        try:
            return get_peft_config(values)
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"[peft]: {error}") from None

    @property
    def method(self) -> str:
        return str(self.peft.get("peft_type", "LORA")).lower()


# -- model ----------------------------------------------------------------------------------


def load_base(config: TrainConfig):
    """(model, tokenizer, base identity)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from assistant.model.loader import resolve_base

    if config.base == "tiny":
        from transformers import LlamaConfig, LlamaForCausalLM

        folder, _ = resolve_base("embedded", Path(".cache/models"))
        tokenizer = AutoTokenizer.from_pretrained(folder)
        torch.manual_seed(config.seed)
        tiny = LlamaConfig(
            hidden_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            intermediate_size=128,
            vocab_size=len(tokenizer),
        )
        return LlamaForCausalLM(tiny), tokenizer, "tiny-random-llama"
    folder, base_id = resolve_base(config.base, Path(".cache/models"))
    return (
        AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32),
        AutoTokenizer.from_pretrained(folder),
        base_id,
    )


def attach_adapter(model, config: TrainConfig):
    from peft import get_peft_model

    return get_peft_model(model, config.peft_config())


# -- data -----------------------------------------------------------------------------------


def system_prefix() -> str:
    """The constant system turn every prompt starts with (its KV cache is shared)."""
    return render_turn(Turn("system", system_prompt(agent_tools())))


def encode(
    example: Example, tokenizer, prefix_len: int, max_tokens: int
) -> tuple[list[int], list[int]] | None:
    """Token ids after the system prefix, and labels that are -100 except on the target turn."""
    # the app's own prompt builder, over the turns as the app's model reads them
    prompt = protocol_prompt(model_view(example.context), agent_tools())
    target = turn_body(example.target) + IM_END
    prompt_ids = tokenizer(prompt).input_ids[prefix_len:]
    target_ids = tokenizer(target, add_special_tokens=False).input_ids
    if len(prompt_ids) + len(target_ids) > max_tokens:
        return None
    return prompt_ids + target_ids, [IGNORE] * len(prompt_ids) + target_ids


def encode_all(examples: list[Example], tokenizer, prefix_len: int, max_tokens: int) -> list:
    return [r for e in examples if (r := encode(e, tokenizer, prefix_len, max_tokens))]


def focus(examples: list[Example], kinds: list[str] | None, seed: int) -> list[Example]:
    """All examples of the focus kinds plus as many others, drawn at random (replay)."""
    if not kinds:
        return examples
    chosen = [e for e in examples if e.kind in kinds]
    others = [e for e in examples if e.kind not in kinds]
    return chosen + random.Random(seed).sample(others, min(len(others), len(chosen)))


def drop(examples: list[Example], pattern: str | None) -> list[Example]:
    if not pattern:
        return examples
    matches = re.compile(pattern).search
    return [e for e in examples if not matches(e.template)]


def repeat(
    examples: list[Example], kinds: dict[str, int], templates: dict[str, int] | None = None
) -> list[Example]:
    def times(e: Example) -> int:
        by_template = [n for key, n in (templates or {}).items() if key in e.template]
        return max([kinds.get(e.kind, 1), *by_template])

    return [e for e in examples for _ in range(times(e))]


def slices(rows: list, max_tokens: int) -> list[list]:
    """Consecutive slices of a length-sorted batch, each padded size within max_tokens."""
    width = max(len(ids) for ids, _ in rows)
    per = max(1, max_tokens // width)
    return [rows[i : i + per] for i in range(0, len(rows), per)]


def length_buckets(rows: list, batch_size: int) -> list[list]:
    """Batches of similar length: a short tool call is not padded to a long answer's size,
    which on CPU is most of the cost."""
    ordered = sorted(rows, key=lambda r: len(r[0]))
    return [ordered[i : i + batch_size] for i in range(0, len(ordered), batch_size)]


def collate(rows: list[tuple[list[int], list[int]]], pad_id: int):
    width = max(len(ids) for ids, _ in rows)
    ids = torch.full((len(rows), width), pad_id)
    labels = torch.full((len(rows), width), IGNORE)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, (row_ids, row_labels) in enumerate(rows):
        ids[i, : len(row_ids)] = torch.tensor(row_ids)
        labels[i, : len(row_labels)] = torch.tensor(row_labels)
        mask[i, : len(row_ids)] = 1
    return ids, labels, mask


def prefix_cache(model, prefix_ids: torch.Tensor, rows: int):
    """The shared system prompt's keys and values, repeated over a batch of ``rows``.

    It runs without gradients: it is the same constant text in every example, and skipping
    its backward pass saves about a third of a short batch's time."""
    with torch.no_grad():
        cache = model(input_ids=prefix_ids, use_cache=True)["cache"]  # transformers 5 name
    cache.batch_repeat_interleave(rows)
    return cache


def forward(model, prefix_ids: torch.Tensor, cache, ids, labels, mask):
    """The batch after the shared prefix, attending to the prefix's cache."""
    full_mask = torch.cat(
        [torch.ones((ids.shape[0], prefix_ids.shape[1]), dtype=mask.dtype), mask], dim=1
    )
    return model(
        input_ids=ids, attention_mask=full_mask, cache=cache, labels=labels, use_cache=False
    )


def batch_loss(model, prefix_ids: torch.Tensor, ids, labels, mask):
    """Mean loss per target token: the prefix forwarded once, its cache repeated over the batch."""
    return forward(
        model, prefix_ids, prefix_cache(model, prefix_ids, ids.shape[0]), ids, labels, mask
    ).loss


class Teacher:
    """The stage a continued run starts from, frozen. On the examples it already gets right,
    the new stage is held to its whole distribution at the target tokens (KL), not only to the
    target token, which keeps what it does on phrasings near them; where it is wrong (a tool
    it was never taught), only the data's target counts."""

    def __init__(self, model, prefix_ids: torch.Tensor):
        self.model = copy.deepcopy(model).eval()
        for parameter in self.model.parameters():
            parameter.requires_grad_(False)
        self.device = None
        self.to(prefix_ids.device, prefix_ids)

    def to(self, device, prefix_ids: torch.Tensor) -> None:
        """On the training device (a GPU when there is one), its prompt cache computed there."""
        if device == self.device:
            return
        self.device = device
        self.model.to(device)
        with torch.no_grad():
            self.cache = self.model(input_ids=prefix_ids.to(device), use_cache=True)["cache"]

    def divergence(self, student_logits, prefix_ids, ids, labels, mask) -> tuple[torch.Tensor, int]:
        """(summed KL over the target tokens of the rows the teacher gets right, those rows)."""
        cache = copy.deepcopy(self.cache)
        cache.batch_repeat_interleave(ids.shape[0])
        with torch.no_grad():
            teacher_logits = forward(self.model, prefix_ids, cache, ids, None, mask).logits
        targets = labels[:, 1:]
        scored = targets != IGNORE
        right = ((teacher_logits[:, :-1].argmax(-1) == targets) | ~scored).all(dim=1)
        keep = scored & right[:, None]
        if not keep.any():
            return student_logits.sum() * 0.0, 0
        student = torch.log_softmax(student_logits[:, :-1][keep].float(), dim=-1)
        teacher = torch.log_softmax(teacher_logits[:, :-1][keep].float(), dim=-1)
        kl = torch.nn.functional.kl_div(student, teacher, log_target=True, reduction="sum")
        return kl, int(right.sum())


# -- loop -----------------------------------------------------------------------------------


def train(config: TrainConfig, resume: bool = False, progress: bool = True) -> Path:
    from accelerate import Accelerator

    if config.threads:
        torch.set_num_threads(config.threads)
    random.seed(config.seed)
    torch.manual_seed(config.seed)
    output = Path(config.output_dir)
    checkpoint = output / "checkpoint"

    model, tokenizer, base_id = load_base(config)
    prefix_ids = tokenizer(system_prefix(), return_tensors="pt").input_ids
    teacher = None
    if config.init_adapter:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, config.init_adapter, is_trainable=True)
        # the init adapter itself, before a resumed checkpoint's weights are loaded
        teacher = Teacher(model, prefix_ids) if config.distill else None
    else:
        model = attach_adapter(model, config)
    saved: dict = {}
    if resume and (checkpoint / "adapter_model.safetensors").exists():
        from peft import set_peft_model_state_dict
        from safetensors.torch import load_file

        # Checkpoints keep AdaLoRA's full ranks (see save_checkpoint); an adapter saved at its
        # pruned ranks can only be finalised (no steps left), not trained further.
        saved = json.loads((checkpoint / "adapter_config.json").read_text())
        if saved.get("rank_pattern"):
            model.peft_config["default"].rank_pattern = saved["rank_pattern"]
        set_peft_model_state_dict(model, load_file(checkpoint / "adapter_model.safetensors"))
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    # From the adapter itself: a later stage trains whatever its init_adapter is.
    method = str(model.peft_config["default"].peft_type.value).lower()

    examples = focus(load_split(Path(config.data_dir), "train"), config.focus_kinds, config.seed)
    examples = repeat(
        drop(examples, config.drop_templates), config.repeat_kinds, config.repeat_templates
    )
    rows = encode_all(examples, tokenizer, prefix_ids.shape[1], config.max_tokens)
    if not rows:
        raise ValueError(
            f"{config.data_dir}/train.jsonl: no example fits max_tokens={config.max_tokens}"
        )
    dev_batches = []
    if config.eval_interval:
        dev = load_split(Path(config.data_dir), "dev")[: config.dev_limit]
        dev_rows = encode_all(dev, tokenizer, prefix_ids.shape[1], config.max_tokens)
        dev_batches = length_buckets(dev_rows, config.batch_size)

    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad],
        lr=config.learning_rate,
        weight_decay=0.0,
    )
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda s: min(1.0, (s + 1) / config.warmup_steps) * max(0.05, 1 - s / config.steps),
    )
    accelerator = Accelerator(cpu=not torch.cuda.is_available())
    model, optimizer = accelerator.prepare(model, optimizer)
    prefix_ids = prefix_ids.to(accelerator.device)
    if teacher:
        teacher.to(accelerator.device, prefix_ids)

    start, earlier_seconds, losses, dev_losses = 0, 0.0, [], []
    held_shares: list[float] = []  # share of each batch the teacher already got right
    state_file = checkpoint / "trainer_state.pt"
    if resume and state_file.exists():
        state = torch.load(state_file, weights_only=False)
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        start = state["step"]
        if method == "adalora" and state.get("rank_pattern"):
            accelerator.unwrap_model(model).peft_config["default"].rank_pattern = state[
                "rank_pattern"
            ]
        elif method == "adalora" and saved.get("rank_pattern") and start < config.steps:
            raise ValueError(
                f"{checkpoint}: saved at pruned ranks; it can be finalised (--steps {start}) "
                "but not trained further"
            )
        losses = state.get("losses", [])
        earlier_seconds = state.get("seconds", 0.0)
        dev_losses = state.get("dev_losses", [])

    pad_id = tokenizer.pad_token_id or 0
    best = Best(output / "best", dev_losses)

    def validate(step: int) -> None:
        if not dev_batches:
            return
        value = dev_loss(model, prefix_ids, dev_batches, pad_id, accelerator.device, config)
        best.record(step, value, accelerator.unwrap_model(model))
        tqdm.write(f"step {step}: dev loss {value:.4f} (best {best.loss:.4f} at {best.step})")

    order = random.Random(config.seed)
    if resume and state_file.exists():
        order.setstate(state["random"])
    started = time.perf_counter()
    bar = tqdm(
        range(start, config.steps),
        initial=start,
        total=config.steps,
        disable=not progress,
        desc=method,
    )
    if start == 0:
        validate(0)  # where the previous stage (or the fresh adapter) stands
    model.train()
    batches = length_buckets(rows, config.batch_size)
    for step in bar:
        batch = batches[order.randrange(len(batches))]
        targets = sum(sum(label != IGNORE for label in labels) for _, labels in batch)
        loss, held = 0.0, 0
        for part in slices(batch, config.max_batch_tokens):
            ids, labels, mask = (
                t.to(accelerator.device) for t in collate(part, tokenizer.pad_token_id or 0)
            )
            share = sum(sum(label != IGNORE for label in row) for _, row in part) / targets
            cache = prefix_cache(model, prefix_ids, ids.shape[0])
            out = forward(model, prefix_ids, cache, ids, labels, mask)
            part_loss = out.loss * share
            if teacher:
                kl, rows_held = teacher.divergence(out.logits, prefix_ids, ids, labels, mask)
                part_loss = part_loss + config.distill * kl / targets
                held += rows_held
            accelerator.backward(part_loss)
            loss += part_loss.item()
        if teacher:
            held_shares.append(held / len(batch))
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if method == "adalora":
            accelerator.unwrap_model(model).base_model.update_and_allocate(step)
        schedule.step()
        optimizer.zero_grad()
        losses.append(loss)
        shown = {"loss": f"{sum(losses[-20:]) / len(losses[-20:]):.3f}"}
        if held_shares:
            shown["held"] = f"{sum(held_shares[-20:]) / len(held_shares[-20:]):.2f}"
        bar.set_postfix(**shown)
        if config.eval_interval and (
            (step + 1) % config.eval_interval == 0 or step + 1 == config.steps
        ):
            validate(step + 1)
        if (step + 1) % config.save_every == 0 and step + 1 < config.steps:
            save_checkpoint(
                accelerator.unwrap_model(model),
                optimizer,
                schedule,
                step + 1,
                order,
                checkpoint,
                losses,
                earlier_seconds + time.perf_counter() - started,
                best.losses,
            )

    model = accelerator.unwrap_model(model)
    if best.step is not None and method != "adalora":
        # AdaLoRA's ranks are pruned on a schedule to the last step, so its last step is kept.
        best.restore(model)
    output.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(output)
    store_half_precision(output / "adapter_model.safetensors")
    data_hash = (
        (Path(config.data_dir) / "HASH").read_text().strip()
        if (Path(config.data_dir) / "HASH").exists()
        else None
    )
    meta = {
        "base_model": base_id,
        "method": method,
        "trainable_params": trainable,
        "train_examples": len(rows),
        "data_hash": data_hash,
        "steps": config.steps,
        "final_loss": round(sum(losses[-20:]) / max(1, len(losses[-20:])), 4) if losses else None,
        "train_seconds": round(earlier_seconds + time.perf_counter() - started, 1),
        "resumed_at_step": start or None,
        "device": str(accelerator.device),
        "dev_losses": best.losses,
        "distilled_share": round(sum(held_shares) / len(held_shares), 3) if held_shares else None,
        "best_step": best.step if method != "adalora" else config.steps,
        "best_dev_loss": best.loss if best.step is not None else None,
        **fingerprint(config.base),
        "config": asdict(config),
    }
    if method == "adalora":
        meta["effective_rank"] = effective_rank(model)
    previous = Path(config.init_adapter or "") / "stockpilot.json"
    if config.init_adapter and previous.exists():  # a second stage records the first
        meta["previous_stage"] = json.loads(previous.read_text())
    (output / "stockpilot.json").write_text(json.dumps(meta, indent=2))
    return output


def fingerprint(base: str) -> dict:
    """What the adapter was trained against: the system prompt, the tool schemas, the base
    weights' file. The loader compares the first two with the live ones."""
    from assistant.model.loader import base_fingerprint, prompt_fingerprint

    identity = {} if base == "tiny" else {"base_files": base_fingerprint(base)}
    return {**prompt_fingerprint(agent_tools()), **identity}


def dev_loss(model, prefix_ids, batches: list, pad_id: int, device, config: TrainConfig) -> float:
    """Mean loss per target token over the dev split, without dropout or gradients."""
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for batch in batches:
            for part in slices(batch, config.max_batch_tokens):
                ids, labels, mask = (t.to(device) for t in collate(part, pad_id))
                n = int((labels != IGNORE).sum())
                total += batch_loss(model, prefix_ids, ids, labels, mask).item() * n
                count += n
    model.train()
    return total / max(1, count)


class Best:
    """The lowest dev loss so far and its adapter weights (kept on disk under ``folder``)."""

    def __init__(self, folder: Path, losses: list):
        self.folder, self.losses = folder, [list(x) for x in losses]
        scored = min(self.losses, key=lambda x: x[1]) if self.losses else None
        self.step, self.loss = (scored[0], scored[1]) if scored else (None, float("inf"))

    def record(self, step: int, loss: float, model) -> None:
        self.losses.append([step, round(loss, 5)])
        if loss < self.loss:
            self.step, self.loss = step, loss
            model.save_pretrained(self.folder)

    def restore(self, model) -> None:
        from peft import set_peft_model_state_dict
        from safetensors.torch import load_file

        set_peft_model_state_dict(model, load_file(self.folder / "adapter_model.safetensors"))


def store_half_precision(path: Path) -> None:
    """Adapter weights in fp16: half the size in the repository; they are cast back to the
    base model's dtype on load, and greedy outputs are unchanged."""
    from safetensors.torch import load_file, save_file

    weights = load_file(path)
    save_file({k: v.to(torch.float16) for k, v in weights.items()}, path, metadata={"format": "pt"})


def effective_rank(model) -> float:
    """AdaLoRA's mean rank after pruning: singular values left non-zero per adapted module."""
    ranks = [
        int((p.detach() != 0).sum())
        for name, p in model.named_parameters()
        if name.endswith("lora_E.default")
    ]
    return round(sum(ranks) / len(ranks), 2) if ranks else 0.0


def save_checkpoint(
    model,
    optimizer,
    schedule,
    step: int,
    order: random.Random,
    folder: Path,
    losses: list[float] | None = None,
    seconds: float = 0.0,
    dev_losses: list | None = None,
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    # AdaLoRA saves at its pruned ranks once it has a rank pattern; a checkpoint keeps the
    # full ranks (pruned ones are zero) so the optimizer state still fits on --resume.
    config = model.peft_config["default"]
    pattern = getattr(config, "rank_pattern", None)
    if pattern:
        config.rank_pattern = None
    model.save_pretrained(folder)
    if pattern:
        config.rank_pattern = pattern
    torch.save(
        {
            "optimizer": optimizer.state_dict(),
            "schedule": schedule.state_dict(),
            "step": step,
            "random": order.getstate(),
            "losses": losses or [],
            "rank_pattern": pattern,
            "seconds": seconds,
            "dev_losses": dev_losses or [],
        },
        folder / "trainer_state.pt",
    )
