"""Model backends behind one LangChain chat model: embedded SmolLM2, local HF folder, OpenAI-compatible endpoint."""
