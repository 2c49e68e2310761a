"""The use cases, chat-neutral: sync, notices, the nudge flow, posting, delivery, commands."""
