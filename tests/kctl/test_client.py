"""kctl.client's pieces that need no server."""

from __future__ import annotations

import pytest

from kctl.client import warning_text


@pytest.mark.parametrize("header, text", [
    ('299 - "unknown field \\"spec.bogus\\""', 'unknown field "spec.bogus"'),
    ('299 kube-apiserver "deprecated" "Mon, 01 Jan 2024 00:00:00 GMT"',
     "deprecated"),
    ('199 - "miscellaneous"', None),
    ('299 - "no closing quote', None),
    ("299 - unquoted", None),
], ids=["escaped-quotes", "agent-and-date", "not-299", "unclosed", "unquoted"])
def test_a_warning_headers_text_is_read_as_client_go_reads_it(header, text):
    assert warning_text(header) == text
