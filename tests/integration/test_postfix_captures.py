"""Captures of a real Postfix (tests/data/postfix, made by make.sh there)
against their MANIFEST.md; see lab_manifest.py."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lab_manifest import check_server_dir  # noqa: E402

check_server_dir("postfix", 15)
