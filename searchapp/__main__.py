"""``python -m searchapp ...``: the command line."""

from searchapp.cli import main

if __name__ == "__main__":
    main()
