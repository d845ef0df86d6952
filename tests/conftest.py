"""Shared by every test: the collection is importable under its FQCN."""
from tests.collection_path import importable

importable()
