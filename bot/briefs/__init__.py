"""Briefs: YAML files → validated models → a library with its indexes."""
