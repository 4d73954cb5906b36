"""Test and benchmark helpers shared by tests/ and bench/: a live gunicorn, image makers, HTTP clients.

Nothing here is part of the service; tests/ and bench/ both import it and never each other.
"""
