"""SOP knowledge base: corpus, ingestion into chromadb, retrieval with citations."""

from assistant.offline import enforce_offline

enforce_offline()
