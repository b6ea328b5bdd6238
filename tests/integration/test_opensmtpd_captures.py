"""Captures of a real OpenSMTPD (tests/data/opensmtpd, made by make.sh there)
against their MANIFEST.md; see lab_manifest.py. OpenSMTPD words every refused
recipient alike and puts syntax-class enhanced codes on policy refusals: the
verdicts must hold."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lab_manifest import check_server_dir  # noqa: E402

check_server_dir("opensmtpd", 26)
