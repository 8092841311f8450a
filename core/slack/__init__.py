"""Slack: Events API requests and workspace exports turned into core's messages."""

SOURCE = "slack"
