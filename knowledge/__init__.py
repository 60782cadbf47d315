"""SOP knowledge base: corpus, ingestion into chromadb, retrieval with citations."""

from knowledge.offline import enforce_offline

enforce_offline()
