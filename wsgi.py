"""WSGI entry point: ``gunicorn wsgi:app``."""

from searchapp import create_app

app = create_app()
