"""The web chat: `python app.py` (or `make run`). Builds the index on first run, serves on 127.0.0.1."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from assistant import Assistant, Settings  # noqa: E402
from assistant.ui import build_ui, launch_options  # noqa: E402


def main() -> None:
    settings = Settings()
    print("Loading the assistant (the first run builds the index)…", flush=True)
    assistant = Assistant.from_settings(settings)
    demo = build_ui(assistant)
    port = int(os.environ.get("GRADIO_SERVER_PORT", "7860"))
    demo.launch(server_name="127.0.0.1", server_port=port, share=False, prevent_thread_lock=True, quiet=True,
                **launch_options())
    print(f"Space-governance assistant running at {demo.local_url}  (Ctrl+C to stop)", flush=True)
    demo.block_thread()


if __name__ == "__main__":
    main()
