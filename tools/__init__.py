"""Supply-chain domain tools over the Stockpilot data store."""
