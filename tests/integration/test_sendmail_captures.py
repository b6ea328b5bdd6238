"""Captures of a real Sendmail 8.17 (tests/data/sendmail, made by make.sh
there) against their MANIFEST.md; see lab_manifest.py. Sendmail refuses an
address after the greeting (at MAIL), refuses early talkers with a bare 554
greeting and times out idle sessions without a word: the verdicts must
hold."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from lab_manifest import check_server_dir  # noqa: E402

check_server_dir("sendmail", 38)
