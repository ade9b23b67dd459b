"""make bench, as a package run with `python3 -m bench` from tests/: what
each server design costs, each against its own floor. README.md beside
this file says which module does what."""
