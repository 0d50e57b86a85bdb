"""Prepares raw data for training: quality checks, split, Model Monitor baseline (a PySpark job)."""
