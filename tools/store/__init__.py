"""The data store: schema, typed data access, simulator and importer."""

from tools.store.db import Store, UnknownEntityError

__all__ = ["Store", "UnknownEntityError"]
