"""Entry point: `gunicorn run:app` (production) and `flask --app run ...` (CLI)."""

from app import create_app

app = create_app()
