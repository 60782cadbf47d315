"""Greedy generation with the local model, reusing the system prompt's KV cache.

Prompt length dominates CPU latency; the system prompt (tool list) is identical for every
request, so its keys/values are computed once and copied into each generation.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable

import torch
from transformers import (
    LogitsProcessorList,
    StoppingCriteria,
    StoppingCriteriaList,
    TextIteratorStreamer,
)

from assistant import limits
from assistant.model.copy_constraint import CopySpans
from assistant.model.loader import LoadedModel
from assistant.model.schema_constraint import SchemaChoices
from assistant.protocol import IM_END


class LocalGenerator:
    def __init__(self, loaded: LoadedModel, prefix: str):
        self.model, self.tokenizer = loaded.model, loaded.tokenizer
        self.prefix = prefix
        self.prefix_ids = self.tokenizer(prefix, return_tensors="pt").input_ids
        self.stop_id = self.tokenizer.convert_tokens_to_ids(IM_END)
        self._lock = threading.Lock()  # one generation at a time on a shared model
        with torch.no_grad():
            self.prefix_cache = self.model(self.prefix_ids, use_cache=True)["cache"]

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text).input_ids)

    def _cache_for(self, ids: torch.Tensor):
        n = self.prefix_ids.shape[1]
        if ids.shape[1] > n and torch.equal(ids[0, :n], self.prefix_ids[0]):
            return copy.deepcopy(self.prefix_cache)
        return None

    def complete(
        self,
        prompt: str,
        max_new_tokens: int = 256,
        on_token: Callable[[str], None] | None = None,
        copy_sources: dict[str, str] | None = None,
        specs=None,
        must_call: bool = False,
    ) -> tuple[str, dict]:
        """Generate until <|im_end|>; returns (text, stats). With ``copy_sources`` the names in
        tool calls are kept verbatim spans of their source (assistant.model.copy_constraint);
        with ``specs`` tool names and fixed choices are ones that exist (schema_constraint), and
        with ``must_call`` too the reply starts with a call."""
        ids = self.tokenizer(prompt, return_tensors="pt").input_ids
        steer = CopySpans(self.tokenizer, ids.shape[1], copy_sources) if copy_sources else None
        schema = (
            SchemaChoices(self.tokenizer, ids.shape[1], specs, must_call=must_call)
            if specs
            else None
        )
        kwargs = dict(
            input_ids=ids,
            attention_mask=torch.ones_like(ids),
            cache=self._cache_for(ids),  # transformers 5 name (past_key_values is deprecated)
            max_new_tokens=max_new_tokens,
            do_sample=False,
            eos_token_id=self.stop_id,
            pad_token_id=self.stop_id,
            logits_processor=LogitsProcessorList([p for p in (schema, steer) if p]),
            # A request nobody waits for (client gone, deadline passed) frees the model at the
            # next token instead of holding the lock to max_new_tokens (assistant.limits).
            stopping_criteria=StoppingCriteriaList([_StopWhenCancelled(limits.stop_check())]),
        )
        with self._lock:
            text, stats = self._generate(ids, kwargs, on_token)
        if steer and steer.steered:
            stats["copy_steered_tokens"] = steer.steered
        if schema and schema.steered:
            stats["schema_steered_tokens"] = schema.steered
        return text, stats

    def _generate(self, ids, kwargs: dict, on_token) -> tuple[str, dict]:
        if on_token is None:
            with torch.no_grad():
                out = self.model.generate(**kwargs)
            new = out[0, ids.shape[1] :]
            text = self.tokenizer.decode(new, skip_special_tokens=True)
            return text, {"prompt_tokens": ids.shape[1], "completion_tokens": int(new.shape[0])}
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        failure: list[BaseException] = []
        worker = threading.Thread(
            target=self._generate_quietly, args=(streamer, failure), kwargs=kwargs
        )
        worker.start()
        pieces = []
        try:
            for piece in streamer:
                pieces.append(piece)
                if piece:
                    on_token(piece)
        finally:  # hold the lock until the model is free again, even if on_token failed
            worker.join()
        if failure:
            raise failure[0]
        text = "".join(pieces)
        return text, {
            "prompt_tokens": ids.shape[1],
            "completion_tokens": self.count_tokens(text) + 1,
        }

    def _generate_quietly(self, streamer: TextIteratorStreamer, failure: list, **kwargs) -> None:
        try:
            with torch.no_grad():
                self.model.generate(**kwargs, streamer=streamer)
        except BaseException as error:  # noqa: BLE001 - re-raised in the caller's thread
            failure.append(error)
            streamer.end()  # otherwise the consumer waits forever for the end signal


class _StopWhenCancelled(StoppingCriteria):
    def __init__(self, stopped: Callable[[], bool]):
        self.stopped = stopped

    def __call__(self, input_ids, scores, **kwargs) -> torch.BoolTensor:
        return torch.full((input_ids.shape[0],), self.stopped(), dtype=torch.bool)
