"""Optimisers and learning-rate schedulers (placeholder: filled in by its owner)."""
