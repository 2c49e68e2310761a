"""The ConnectWise PSA (Manage) adapter: client, transport, mapping, callbacks and simulator."""
