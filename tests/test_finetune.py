"""Fine-tuning: data generator properties, LoRA/AdaLoRA on a tiny random model, evaluation."""

from __future__ import annotations

import json
import re

import pytest
import torch

from assistant.protocol import Call
from finetune.data import DatasetConfig, build_dataset, load_split, save_dataset
from finetune.evaluate import arguments_match, evaluate
from finetune.templates import TEMPLATES
from tools.registry import agent_tools, validate_arguments


@pytest.fixture(scope="module")
def dataset():
    return build_dataset(
        DatasetConfig(
            per_template=3,
            test_per_template=2,
            followups=40,
            test_followups=10,
            composed_per_tool=20,
            composed_followups=40,
            near_misses=40,
            composed_switches=40,
            template_switches=20,
        )
    )


def test_splits_share_no_template_and_no_entity(dataset):
    train, test = dataset["train"], dataset["test"]
    assert {e.template for e in train}.isdisjoint({e.template for e in test})
    train_values = {v.lower() for e in train for v in e.entities}
    test_values = {v.lower() for e in test if e.kind == "call" for v in e.entities}
    # Numbers like horizons and limits are shared vocabulary, not entities: compare names/codes only.
    named = {
        v
        for v in test_values
        if not v.replace(".", "").isdigit()
        and v
        not in {
            "today",
            "tomorrow",
            "monday",
            "tuesday",
            "wednesday",
            "thursday",
            "friday",
            "saturday",
            "critical",
            "high",
            "medium",
            "low",
            "demand_spike",
            "demand_drop",
            "data_error",
            "supplier_delay",
            "shrinkage",
            "substitutes",
            "late",
            "open",
            "at_risk",
            "all",
        }
    }
    assert named and named.isdisjoint(train_values)


def test_composed_phrasings_are_training_only_and_never_a_held_out_one(dataset):
    from finetune.grammar import CORES, held_out_shapes, shape

    assert set(CORES) == set(TEMPLATES)
    composed = [e for e in dataset["train"] if "/c" in e.template]
    kinds = {e.kind for e in composed}
    assert kinds == {"call", "followup", "refusal"} and len(composed) > 300
    assert not any("/c" in e.template for e in dataset["test"])
    # No test request is a training request, and no composed skeleton is a held-out template.
    train_texts = {
        shape(t.content) for e in dataset["train"] for t in e.context if t.role == "user"
    }
    test_texts = {shape(e.context[-1].content) for e in dataset["test"] if e.kind != "answer"}
    assert train_texts.isdisjoint(test_texts - {""})
    for tool, cores in CORES.items():
        assert not {shape(c) for c, _ in cores} & held_out_shapes(), tool


def test_topic_switches_ask_for_another_tool_or_nothing(dataset):
    import random

    from finetune.data import switch_examples
    from finetune.entities import entity_pools
    from finetune.templates import split_of

    # Training: an exchange (composed, or from a training template), then an unrelated request
    # (another tool or off-topic).
    switches = [e for e in dataset["train"] if ">" in e.template]
    assert {e.kind for e in switches} == {"call", "refusal"} and len(switches) == 40 + 20
    templated = [e for e in switches if re.fullmatch(r"\w+/\d+>\w+/\d+", e.template)]
    assert len(templated) == 20
    assert all(
        split_of(int(p.split("/")[1])) == "train" for e in templated for p in e.template.split(">")
    )
    # A held-out set of them: the split's own phrasings, never the first exchange's tool again.
    held_out = switch_examples("test", entity_pools(0)["test"], random.Random(0), 30, {})
    for e in switches + held_out:
        first, users = e.context[1].calls[0].name, [t for t in e.context if t.role == "user"]
        assert len(users) == 2 and e.context[2].tool_name == first
        assert (e.kind == "refusal") == (not e.target.calls)
        assert not e.target.calls or e.target.calls[0].name != first
    indices = [int(part.split("/")[1]) for e in held_out for part in e.template.split(">")]
    assert all(split_of(i) == "test" for i in indices)


def test_every_agent_tool_is_covered_in_both_splits(dataset):
    tools = {spec.name for spec in agent_tools()}
    assert set(TEMPLATES) == tools
    for split in ("train", "test"):
        called = {c.name for e in dataset[split] for c in e.target.calls}
        assert called == tools, split


def test_every_target_call_validates_against_the_tool_schema(dataset):
    calls = [c for split in dataset.values() for e in split for c in e.target.calls]
    assert len(calls) > 300
    for call in calls:
        validate_arguments(call.name, call.arguments)


def test_irrelevant_requests_are_a_real_share_of_training(dataset):
    train = dataset["train"]
    refusals = [e for e in train if e.kind == "refusal"]
    assert len(refusals) / len(train) > 0.1
    assert all(not e.target.calls for e in refusals)


def test_saved_dataset_round_trips_with_a_stable_hash(dataset, tmp_path):
    first = save_dataset(dataset, tmp_path / "a")
    second = save_dataset(dataset, tmp_path / "b")
    assert first == second
    loaded = load_split(tmp_path / "a", "test")
    assert [e.to_json() for e in loaded] == [e.to_json() for e in dataset["test"]]


def test_argument_match_normalises_case_defaults_and_free_text():
    assert arguments_match(Call("stockout_risk", {"horizon_days": 7}), Call("stockout_risk", {}))
    assert arguments_match(
        Call("forecast_demand", {"sku": "sku-00042"}), Call("forecast_demand", {"sku": "SKU-00042"})
    )
    assert not arguments_match(
        Call("forecast_demand", {"sku": "SKU-00043"}), Call("forecast_demand", {"sku": "SKU-00042"})
    )
    assert not arguments_match(
        Call("stockout_risk", {"horizon_days": 14}), Call("stockout_risk", {})
    )
    assert arguments_match(
        Call("search_sops", {"query": "safety stock policy"}),
        Call("search_sops", {"query": "the safety stock policy"}),
    )
    assert not arguments_match(
        Call("search_sops", {"query": "returns"}), Call("search_sops", {"query": "safety stock"})
    )


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory, dataset):
    folder = tmp_path_factory.mktemp("ftdata")
    (folder / "HASH").write_text(save_dataset(dataset, folder))
    return folder


def tiny_config(tiny_data, output_dir, **settings):
    """A TrainConfig for the tiny random model: batches of 2, one warm-up step."""
    from finetune.train import TrainConfig

    return TrainConfig(
        base="tiny",
        data_dir=str(tiny_data),
        output_dir=str(output_dir),
        batch_size=2,
        warmup_steps=1,
        **settings,
    )


@pytest.mark.parametrize("method", ["lora", "adalora"])
def test_tiny_model_trains_saves_reloads_and_evaluates(method, tiny_data, tmp_path):
    from peft import PeftModel

    from assistant.model.backends import LocalBackend
    from assistant.model.loader import LoadedModel
    from finetune.train import load_base, train

    config = tiny_config(
        tiny_data,
        tmp_path / "adapter",
        method=method,
        steps=4,
        tinit=1,
        tfinal=1,
        delta_t=1,
        save_every=2,
    )
    folder = train(config, progress=False)
    meta = json.loads((folder / "stockpilot.json").read_text())
    assert meta["base_model"] == "tiny-random-llama" and meta["method"] == method
    assert meta["data_hash"] == (tiny_data / "HASH").read_text().strip()
    assert meta["trainable_params"] > 0
    if method == "adalora":  # pruned from init_rank towards rank
        assert 0 < meta["effective_rank"] <= config.init_rank

    base, tokenizer, _ = load_base(config)
    reloaded = PeftModel.from_pretrained(base, folder).eval()
    ids = tokenizer("which skus stock out", return_tensors="pt").input_ids
    with torch.no_grad():
        first, second = reloaded(ids).logits, reloaded(ids).logits
    assert torch.equal(first, second)

    backend = LocalBackend(
        LoadedModel(reloaded.merge_and_unload(), tokenizer, "tiny"), agent_tools(), max_new_tokens=8
    )
    report = evaluate(backend, load_split(tiny_data, "test")[:4], "tiny", progress=False)
    assert report.examples == 4 and report.latency_p50_s > 0


def test_resume_continues_from_the_checkpoint(tiny_data, tmp_path):
    from finetune.train import train

    config = tiny_config(tiny_data, tmp_path / "a", steps=3, save_every=2)
    train(config, progress=False)
    state = torch.load(tmp_path / "a" / "checkpoint" / "trainer_state.pt", weights_only=False)
    assert state["step"] == 2 and len(state["losses"]) == 2 and state["seconds"] > 0
    config.steps = 5
    train(config, resume=True, progress=False)
    meta = json.loads((tmp_path / "a" / "stockpilot.json").read_text())
    assert meta["steps"] == 5 and meta["resumed_at_step"] == 2
    assert meta["train_seconds"] >= state["seconds"] and meta["final_loss"] > 0


def test_adalora_resumes_from_a_pruned_checkpoint(tiny_data, tmp_path):
    from peft import PeftModel

    from finetune.train import load_base, train

    config = tiny_config(
        tiny_data,
        tmp_path / "a",
        method="adalora",
        steps=6,
        rank=2,
        init_rank=6,
        tinit=1,
        tfinal=3,
        delta_t=1,
        save_every=5,
    )
    train(config, progress=False)
    state = torch.load(tmp_path / "a" / "checkpoint" / "trainer_state.pt", weights_only=False)
    assert state["step"] == 5 and state["rank_pattern"]  # saved after pruning, full ranks
    folder = train(config, resume=True, progress=False)
    meta = json.loads((folder / "stockpilot.json").read_text())
    assert meta["resumed_at_step"] == 5 and 0 < meta["effective_rank"] <= config.rank
    base, _, _ = load_base(config)
    PeftModel.from_pretrained(base, folder)


def test_adapter_for_another_base_is_refused(tmp_path):
    from assistant.model.loader import AdapterMismatchError, check_adapter_base

    (tmp_path / "adapter_config.json").write_text("{}")
    (tmp_path / "stockpilot.json").write_text(json.dumps({"base_model": "tiny-random-llama"}))
    with pytest.raises(AdapterMismatchError, match="trained for base model 'tiny-random-llama'"):
        check_adapter_base(tmp_path, "SmolLM2-135M-Instruct")
    check_adapter_base(tmp_path, "tiny-random-llama")
