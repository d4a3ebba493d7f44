"""In-repo Pants backend: ruff >= 0.5 (check, fix, format) for Pants 2.17 (see register.py)."""
