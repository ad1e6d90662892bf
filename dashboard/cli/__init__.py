"""Command-line front ends (python -m dashboard ...)."""
