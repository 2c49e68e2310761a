"""The chat-neutral message, views, templates, formatting, charts, messenger protocol, pacing."""
