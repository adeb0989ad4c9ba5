"""``python -m soak`` (``make soak``): the soak run; see soak/__init__.py."""

from soak.main import main

if __name__ == "__main__":
    main()
