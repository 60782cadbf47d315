"""Stockpilot assistant: model backends, the tool-calling agent, CLI and HTTP API."""

from assistant.offline import enforce_offline

enforce_offline()
