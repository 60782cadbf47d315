"""Stockpilot assistant: model backends, the tool-calling agent, CLI and HTTP API."""

from knowledge.offline import enforce_offline

enforce_offline()
