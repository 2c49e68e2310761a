"""Developer tools (not shipped): README screenshots."""
