"""``python -m iomonitor``."""

from iomonitor.cli import entry_point

if __name__ == "__main__":
    entry_point()
