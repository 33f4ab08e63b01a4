"""Prefect flows of the project; deployment entrypoints point here."""
