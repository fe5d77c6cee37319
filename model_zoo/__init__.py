"""What models exist and how they run. Never imports gradio (see DESIGN.md)."""
