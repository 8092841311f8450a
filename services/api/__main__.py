"""`python -m services.api`: one API process for already-resolved settings."""

from services.api.server import serve

if __name__ == "__main__":
    serve()
