"""The Python SDK for bots and scripts."""
