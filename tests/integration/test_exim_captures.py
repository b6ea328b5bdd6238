"""Captures of a real Exim (tests/data/exim, made by make.sh there) against
their MANIFEST.md; see lab_manifest.py. Exim writes no enhanced status codes
by default and words its refusals its own way: the verdicts must hold."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lab_manifest import check_server_dir  # noqa: E402

check_server_dir("exim", 20)
