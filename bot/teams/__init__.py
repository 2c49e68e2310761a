"""Microsoft Teams: the bot (Teams SDK for Python), Adaptive Cards and post-only Workflows."""

import warnings

# The SDK announces a preview feature we do not use, at import; keep it out of our output.
warnings.filterwarnings("ignore", message="HtmlWidgetSecurityPolicy is in preview")
