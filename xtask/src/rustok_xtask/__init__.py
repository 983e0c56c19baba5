"""Workspace tasks driven by modules.toml: generate, check, rebuild, new-module."""
