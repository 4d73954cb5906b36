"""WSGI entry point: load .env (variables already set win), then build the app once."""

from imgopt import create_app
from imgopt.config import load_env_file

load_env_file()
app = create_app()
