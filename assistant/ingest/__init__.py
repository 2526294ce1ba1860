"""Corpus to Chroma: load.py (files to documents), split.py (documents to passages), index.py (embed, upsert)."""
