"""Fine-tuning: data generator properties, LoRA/AdaLoRA on a tiny random model, evaluation."""

from __future__ import annotations

import json
import re
from pathlib import Path

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
            register_per_template=2,
            reference_followups=40,
            test_reference_followups=10,
            dev_examples=30,
        ),
        None,
        FAKE_OUTPUTS,
        FAKE_OUTPUTS,
    )


# Rendered results with rows to refer to ("the first one"), as the real tools write them.
FAKE_OUTPUTS = {
    "stockout_risk": ["Stock-out risk (BER): 3 series.\nSKU-00018 BER 100%\nSKU-00027 BER 90%"],
    "list_alerts": ["2 open alerts:\nA-1 critical supplier_delay: PO-2181\nA-5 medium"],
    "supplier_orders": ["1 late POs for SUP-004:\nPO-2223 SUP-004 HAM late: 2 d late"],
    "supplier_scorecard": ["Supplier scorecard:\n1. SUP-001 Xiamen Harbour: OTIF 72%"],
    "forecast_demand": ["Forecast SKU-00107 at HAM: total 117 units"],
    "stock_projection": ["SKU-00010 stock: BER: on hand 30, no stock-out expected"],
}


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
    from tools.registry import agent_tools

    # every tool the agent offers is composed, the planner tools too (finetune.planner_cores)
    assert set(CORES) == set(TEMPLATES) | {"what_if", "sales_history", "briefing"}
    assert set(CORES) == {spec.name for spec in agent_tools()}
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


def test_planner_tools_are_composed_with_their_words_periods_and_edits():
    import random

    from finetune.entities import entity_pools
    from finetune.grammar import composed_calls
    from tools.changes import names_an_edit
    from tools.periods import resolve_period
    from tools.store.simulate import DEFAULT_TODAY

    made = composed_calls(entity_pools(0)["train"], random.Random(5), 120)
    by_tool = {}
    for e in made:
        by_tool.setdefault(e.template.split("/")[0], []).append(e)
    for tool in ("sales_history", "what_if", "briefing"):
        texts = {e.context[-1].content.lower() for e in by_tool[tool]}
        assert len(texts) > 100, tool  # composed, not a few sentences repeated
    for e in by_tool["sales_history"]:
        arguments, text = e.target.calls[0].arguments, e.context[-1].content
        assert arguments["metric"] in {
            "units_sold", "revenue", "lost_sales", "stock_on_hand", "stock_value", "stockout_days"
        }  # fmt: skip
        if "period" in arguments:  # copied verbatim, and a period the tool reads
            assert arguments["period"] in text
            assert resolve_period(arguments["period"], DEFAULT_TODAY)
    whatifs = [e.context[-1].content for e in by_tool["what_if"]]
    assert sum(map(names_an_edit, whatifs)) >= 0.97 * len(whatifs)  # typos aside
    buy_lists = [e for e in by_tool["reorder_plan"] if "sku" not in e.target.calls[0].arguments]
    assert len(buy_lists) > 30
    # a buy list may be for a category or a supplier; a single SKU's plan never is
    assert not any(
        {"sku", "category"} <= set(e.target.calls[0].arguments)
        or {"sku", "supplier"} <= set(e.target.calls[0].arguments)
        for e in by_tool["reorder_plan"]
    )


def test_procedures_are_also_asked_for_by_the_situation_with_the_situation_as_query():
    import random

    from finetune.entities import entity_pools
    from finetune.grammar import SITUATIONS, composed_calls

    made = composed_calls(entity_pools(0)["train"], random.Random(3), 200)
    sops = [e for e in made if e.template.startswith("search_sops/")]
    situational = [e for e in sops if e.target.calls[0].arguments["query"] in SITUATIONS]
    assert 0.1 * len(sops) < len(situational) < 0.5 * len(sops)  # beside, not instead of, topics
    for e in situational:
        query = e.target.calls[0].arguments["query"]
        assert query in e.context[-1].content  # copied whole, typos only outside it
        assert e.target.calls[0].arguments == {"query": query}


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
    from finetune.phrasings import REGISTERS

    tools = {spec.name for spec in agent_tools()}
    old = set(TEMPLATES)  # the tools of test.jsonl; later tools are held out in test-extra
    assert old <= tools and set(REGISTERS) | {"search_sops"} == tools
    for split in ("train", "test-extra"):
        called = {c.name for e in dataset[split] for c in e.target.calls}
        assert called == tools, split
    assert {c.name for e in dataset["test"] for c in e.target.calls} == old


def test_follow_ups_by_reference_copy_the_row_the_user_means(dataset):
    refs = [e for e in dataset["train"] if "/ref" in e.template]
    assert len(refs) >= 20
    by_text = {}
    for e in refs:
        by_text.setdefault(e.context[-1].content, []).append(e)
    for e in refs:
        call, previous = e.target.calls[0], e.context[2].content
        if e.context[-1].content == "any subs for the top row?":
            assert call.arguments == {"sku": "SKU-00018", "mode": "substitutes"}
        if e.context[-1].content == "forecast the second sku":
            assert call.name == "forecast_demand" and call.arguments["sku"] == "SKU-00027"
        if call.name == "explain_alert":
            assert call.arguments["alert_id"] == "A-1"
        for value in call.arguments.values():  # copied from the conversation, never invented
            if isinstance(value, str) and value not in {"substitutes", "open", "late", "all"}:
                text = " ".join(
                    t.content or json.dumps([c.arguments for c in t.calls]) for t in e.context
                )
                assert value.lower() in text.lower(), (e.context[-1].content, value)
        assert previous  # the exchange shows the result the follow-up refers to
    assert any(t in by_text for t in ("any subs for the top row?", "explain the first one"))


def test_dev_split_is_drawn_like_training_but_shares_no_request_with_it(dataset):
    from finetune.data import request_key
    from finetune.templates import split_of

    dev, train = dataset["dev"], dataset["train"]
    assert len(dev) == 30 and {e.split for e in dev} == {"dev"}
    assert not {request_key(e) for e in dev} & {request_key(e) for e in train}
    # Training phrasings only: no held-out template is a dev template.
    for e in dev:
        tool, _, index = e.template.partition("/")
        if index.isdigit():
            assert split_of(int(index)) == "train", e.template
    test_templates = {e.template for e in dataset["test"]} | {
        e.template for e in dataset["test-extra"]
    }
    assert not {e.template for e in dev} & test_templates


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
    # a period is the dates the tool reads from it
    history = lambda period: Call("sales_history", {"metric": "revenue", "period": period})  # noqa: E731
    assert arguments_match(history("october"), history("in october"))
    assert arguments_match(history("2026-10"), history("in october"))
    assert not arguments_match(history("last week"), history("last month"))
    assert not arguments_match(history("last week"), history(None))


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
        dev_limit=6,
        **settings,
    )


ADALORA = {"peft_type": "ADALORA", "init_r": 6, "target_r": 2, "tinit": 1, "tfinal": 1}
ADALORA |= {"deltaT": 1, "target_modules": ["q_proj", "v_proj"]}


@pytest.mark.parametrize("method", ["lora", "adalora"])
def test_tiny_model_trains_saves_reloads_and_evaluates(method, tiny_data, tmp_path):
    from peft import PeftModel

    from assistant.model.backends import LocalBackend
    from assistant.model.loader import LoadedModel
    from finetune.train import load_base, train

    peft = ADALORA if method == "adalora" else {"peft_type": "LORA", "r": 4, "lora_alpha": 8}
    config = tiny_config(tiny_data, tmp_path / "adapter", peft=peft, steps=4, save_every=2)
    folder = train(config, progress=False)
    meta = json.loads((folder / "stockpilot.json").read_text())
    assert meta["base_model"] == "tiny-random-llama" and meta["method"] == method
    assert meta["data_hash"] == (tiny_data / "HASH").read_text().strip()
    assert meta["trainable_params"] > 0
    if method == "adalora":  # pruned from init_r towards target_r
        assert 0 < meta["effective_rank"] <= peft["init_r"]
    # Validation loss at the start and every eval_interval steps; the best step is written.
    assert [step for step, _ in meta["dev_losses"]] == [0, 4]
    best = min(meta["dev_losses"], key=lambda x: x[1])
    assert meta["dev_losses"][0][1] > 0
    if method == "lora":
        assert meta["best_step"] == best[0] and meta["best_dev_loss"] == pytest.approx(best[1])
    assert set(meta) >= {"prompt_sha256", "tools_sha256"}

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

    peft = {**ADALORA, "tfinal": 3}
    config = tiny_config(tiny_data, tmp_path / "a", peft=peft, steps=6, save_every=5)
    train(config, progress=False)
    state = torch.load(tmp_path / "a" / "checkpoint" / "trainer_state.pt", weights_only=False)
    assert state["step"] == 5 and state["rank_pattern"]  # saved after pruning, full ranks
    folder = train(config, resume=True, progress=False)
    meta = json.loads((folder / "stockpilot.json").read_text())
    assert meta["resumed_at_step"] == 5 and 0 < meta["effective_rank"] <= peft["target_r"]
    base, _, _ = load_base(config)
    PeftModel.from_pretrained(base, folder)


def test_adapter_for_another_base_is_refused(tmp_path):
    from assistant.model.loader import AdapterMismatchError, check_adapter_base

    (tmp_path / "adapter_config.json").write_text("{}")
    (tmp_path / "stockpilot.json").write_text(json.dumps({"base_model": "tiny-random-llama"}))
    with pytest.raises(AdapterMismatchError, match="trained for base model 'tiny-random-llama'"):
        check_adapter_base(tmp_path, "SmolLM2-135M-Instruct")
    check_adapter_base(tmp_path, "tiny-random-llama")


def test_training_loss_falls_on_the_tiny_model(tiny_data, tmp_path):
    from finetune.train import train

    peft = {"peft_type": "LORA", "r": 8, "lora_alpha": 16}
    config = tiny_config(
        tiny_data, tmp_path / "a", peft=peft, steps=12, learning_rate=5e-3, eval_interval=6
    )
    meta = json.loads((train(config, progress=False) / "stockpilot.json").read_text())
    dev = [loss for _, loss in meta["dev_losses"]]
    assert len(dev) == 3 and dev[-1] < dev[0]


def test_distillation_holds_the_new_stage_only_where_the_teacher_is_right():
    from finetune.train import IGNORE, Teacher, TrainConfig, forward, load_base, prefix_cache

    model, _, _ = load_base(TrainConfig(base="tiny"))
    prefix = torch.tensor([[1, 5, 9]])
    teacher = Teacher(model, prefix)
    ids = torch.tensor([[11, 12, 13, 14, 15], [21, 22, 23, 24, 25]])
    mask = torch.ones_like(ids)
    with torch.no_grad():
        logits = forward(model, prefix, prefix_cache(model, prefix, 2), ids, None, mask).logits
    greedy = logits.argmax(-1)
    labels = torch.full_like(ids, IGNORE)
    labels[:, 3:] = greedy[:, 2:4]  # both rows: the teacher's own greedy tokens are the target
    labels[1, 4] = (greedy[1, 3] + 1) % logits.shape[-1]  # row 2: the teacher is wrong once
    kl, held = teacher.divergence(logits, prefix, ids, labels, mask)
    assert held == 1 and kl.item() == pytest.approx(0.0, abs=1e-5)  # the same model: no divergence
    moved = logits.clone()
    moved[1] += torch.randn_like(moved[1])  # only the row the teacher got wrong moves
    assert teacher.divergence(moved, prefix, ids, labels, mask)[0].item() == pytest.approx(
        0.0, abs=1e-5
    )
    moved[0, 3] += torch.randn_like(moved[0, 3])  # a target position of the held row moves
    assert teacher.divergence(moved, prefix, ids, labels, mask)[0].item() > 1e-3
    moved = logits.clone()
    moved[0, 0] += torch.randn_like(moved[0, 0])  # a prompt position: not a target
    assert teacher.divergence(moved, prefix, ids, labels, mask)[0].item() == pytest.approx(
        0.0, abs=1e-5
    )


def test_a_distilled_stage_continues_from_its_init_adapter(tiny_data, tmp_path):
    from finetune.train import train

    peft = {"peft_type": "LORA", "r": 4, "lora_alpha": 8}
    first = train(tiny_config(tiny_data, tmp_path / "a", peft=peft, steps=2), progress=False)
    config = tiny_config(tiny_data, tmp_path / "b", init_adapter=str(first), steps=2, distill=1.0)
    meta = json.loads((train(config, progress=False) / "stockpilot.json").read_text())
    # a random tiny model writes no target itself, so nothing is held to it
    assert meta["distilled_share"] == 0.0 and meta["previous_stage"]["steps"] == 2


def test_training_prompt_is_the_apps_prompt(dataset):
    from transformers import AutoTokenizer

    from assistant.model.backends import protocol_prompt
    from assistant.model.loader import resolve_base
    from finetune.train import encode, system_prefix

    folder, _ = resolve_base("embedded", Path(".cache/models"))
    tokenizer = AutoTokenizer.from_pretrained(folder)
    example = next(e for e in dataset["train"] if e.kind == "followup")
    prefix_len = len(tokenizer(system_prefix()).input_ids)
    ids, labels = encode(example, tokenizer, prefix_len, 4000)
    prompt = tokenizer(protocol_prompt(example.context, agent_tools())).input_ids
    assert prompt[:prefix_len] == tokenizer(system_prefix()).input_ids
    assert ids[: len(prompt) - prefix_len] == prompt[prefix_len:]
    assert all(label == -100 for label in labels[: len(prompt) - prefix_len])


def test_an_adapter_trained_with_another_prompt_is_flagged(tmp_path):
    from assistant.model.loader import adapter_drift, prompt_fingerprint

    live = prompt_fingerprint()
    (tmp_path / "adapter_config.json").write_text("{}")
    (tmp_path / "stockpilot.json").write_text(json.dumps(live))
    assert adapter_drift(tmp_path) == []
    (tmp_path / "stockpilot.json").write_text(json.dumps({**live, "tools_sha256": "0" * 16}))
    (line,) = adapter_drift(tmp_path)
    assert "tool schemas" in line and "0" * 16 in line and live["tools_sha256"] in line
    assert "prompt it sees is the same" in line
    (tmp_path / "stockpilot.json").write_text(json.dumps({**live, "prompt_sha256": "1" * 16}))
    (line,) = adapter_drift(tmp_path)
    assert "system prompt" in line and "retrain" in line
    (tmp_path / "stockpilot.json").write_text(json.dumps({"base_model": "x"}))  # older adapter
    assert adapter_drift(tmp_path) == []


GENERATED = Path(__file__).resolve().parents[1] / "finetune" / "generated"


def test_regenerating_the_training_data_reproduces_its_recorded_hash(tmp_path):
    from finetune.data import build_from_tool_runs

    runs = json.loads((GENERATED / "tool-runs.json").read_text())
    data = build_from_tool_runs(runs, 0, GENERATED)
    assert save_dataset(data, tmp_path) == (GENERATED / "HASH").read_text().strip()
    for split in ("train", "dev", "test", "test-extra"):
        assert (tmp_path / f"{split}.jsonl").read_bytes() == (
            GENERATED / f"{split}.jsonl"
        ).read_bytes(), split


STAFF = Path(__file__).resolve().parents[2] / "shared" / "eval" / "staff_requests.jsonl"


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


@pytest.mark.skipif(not STAFF.exists(), reason="../shared/eval is absent")
def test_no_training_or_dev_request_contains_a_shared_staff_request():
    # Only the request texts are read, to compare; they are never used to write data.
    staff = set()
    for line in STAFF.read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            text = row.get("request") or row.get("text") or row.get("prompt") or ""
            turns = row.get("turns") or []
            staff |= {_norm(t if isinstance(t, str) else t.get("content", "")) for t in turns}
            staff.add(_norm(text))
    staff.discard("")
    assert staff
    for split in ("train", "dev"):
        for example in load_split(GENERATED, split):
            for turn in example.context:
                if turn.role == "user":
                    request = _norm(turn.content)
                    hit = next((s for s in staff if s in request), None)
                    assert hit is None, (split, request, hit)


def test_a_stage_config_drops_and_repeats_templates_by_id(dataset):
    from finetune.train import TrainConfig, drop, repeat

    config = TrainConfig.from_toml("finetune/configs/lora-stage12.toml")
    kept = drop(dataset["train"], config.drop_templates)
    ids = {e.template for e in kept}
    # the old tools' stage-7 registers, policy questions and reference follow-ups are gone ...
    assert not any(
        re.fullmatch(r"(stockout_risk|search_sops|list_alerts)/(r|p|ref)\d+", t) for t in ids
    )
    # ... the new tools, the buy list, the per-supplier drafts and the grammar stay
    for kept_id in ("what_if/r0", "briefing/r1", "reorder_plan/r10", "draft_supplier_email/r11"):
        assert kept_id in ids
    assert any(re.fullmatch(r"stockout_risk/\d+", t) for t in ids)
    assert {e.kind for e in kept} >= {"call", "followup", "refusal"}
    drawn = repeat(kept, config.repeat_kinds, config.repeat_templates)
    counts = {}
    for e in drawn:
        counts[id(e)] = counts.get(id(e), 0) + 1

    def times(pattern: str, kind: str = "call") -> set[int]:
        return {counts[id(e)] for e in kept if e.kind == kind and re.fullmatch(pattern, e.template)}

    assert times(r"what_if/r\d+") == {2} and times(r"reorder_plan/r\d+") == {2}
    assert times(r"stockout_risk/\d+") == {1}
    assert times(r".*", "refusal") == {2}
    assert drop(kept, None) == kept


def test_contrasts_teach_the_older_tools_in_the_new_tools_words_and_stage_13_keeps_them(dataset):
    from finetune.phrasings import CONTRASTS
    from finetune.templates import split_of
    from finetune.train import TrainConfig, drop, repeat

    new_tools = {"what_if", "sales_history", "briefing"}
    assert CONTRASTS and not set(CONTRASTS) & new_tools
    for split in ("train", "test-extra"):
        contrasts = [e for e in dataset[split] if re.fullmatch(r"[a-z_]+/x\d+", e.template)]
        assert {e.target.calls[0].name for e in contrasts} == set(CONTRASTS), split
        indices = {int(e.template.split("/x")[1]) for e in contrasts}
        assert all(split_of(i) == ("test" if split == "test-extra" else "train") for i in indices)
    config = TrainConfig.from_toml("finetune/configs/lora-stage13.toml")
    kept = drop(dataset["train"], config.drop_templates)
    drawn = repeat(kept, config.repeat_kinds, config.repeat_templates)
    counts = {}
    for e in drawn:
        counts[id(e)] = counts.get(id(e), 0) + 1
    contrasts = [e for e in kept if "/x" in e.template]
    assert contrasts and min(counts[id(e)] for e in contrasts) >= 3
    assert not any(re.fullmatch(r"stockout_risk/r\d+", e.template) for e in kept)


def _random_lora(model, folder: Path, seed: int) -> dict:
    """A LoRA adapter with random A and B (B starts at zero in training), saved; its deltas."""
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(seed)
    peft_model = get_peft_model(
        model, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "down_proj"])
    )
    for name, param in peft_model.named_parameters():
        if "lora_" in name:
            torch.nn.init.normal_(param, std=0.1)
    peft_model.save_pretrained(folder)
    deltas = {}
    for name, module in peft_model.named_modules():
        if hasattr(module, "get_delta_weight") and "default" in getattr(module, "lora_A", {}):
            deltas[name.split("base_model.model.")[-1]] = module.get_delta_weight("default")
    peft_model.unload()
    return deltas


def test_merged_adapters_change_the_weights_by_exactly_the_weighted_sum(tmp_path):
    from peft import PeftModel

    from finetune.merge import MergeError, merge_adapters
    from finetune.train import TrainConfig, load_base

    model, _, _ = load_base(TrainConfig(base="tiny"))
    first = _random_lora(model, tmp_path / "a", seed=1)
    second = _random_lora(model, tmp_path / "b", seed=2)
    out = merge_adapters([tmp_path / "a", tmp_path / "b"], [0.7, 0.3], tmp_path / "soup")
    config = json.loads((out / "adapter_config.json").read_text())
    assert (config["r"], config["lora_alpha"]) == (8, 16)  # ranks stacked, scale alpha/r kept
    merged = PeftModel.from_pretrained(model, out)
    checked = 0
    for name, module in merged.named_modules():
        if hasattr(module, "get_delta_weight") and "default" in getattr(module, "lora_A", {}):
            key = name.split("base_model.model.")[-1]
            expected = 0.7 * first[key] + 0.3 * second[key]
            assert torch.allclose(module.get_delta_weight("default"), expected, atol=1e-5)
            checked += 1
    assert checked == 4  # q_proj and down_proj in each of the two layers
    with pytest.raises(MergeError, match="one weight for each"):
        merge_adapters([tmp_path / "a", tmp_path / "b"], [1.0], tmp_path / "bad")
    with pytest.raises(MergeError, match="holds no adapter_config.json"):
        merge_adapters([tmp_path / "a", tmp_path / "missing"], [0.5, 0.5], tmp_path / "bad")
    assert not (tmp_path / "bad").exists()
