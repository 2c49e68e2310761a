"""Every HTTP route that is not Slack's or Teams' own: ConnectWise callbacks, the request guard."""
