"""Gradio front end: `build_app(settings)` and `launch(settings)` in ui.app."""
