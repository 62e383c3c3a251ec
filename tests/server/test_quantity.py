"""Quantities in kube-apiserver's canonical form."""

from __future__ import annotations

import pytest

from server.quantity import FORMAT_ERROR, SUFFIX_ERROR, canonical_quantity

CASES = [
    ("0.5", "500m"), ("1.5Gi", "1536Mi"), ("1000m", "1"), ("1500m", "1500m"),
    ("2000m", "2"), ("1000", "1k"), ("1024Mi", "1Gi"), ("2048Ki", "2Mi"),
    ("1025Ki", "1025Ki"), ("0.5Gi", "512Mi"), ("1e3", "1e3"), ("1e2", "100"),
    ("0.1m", "100u"), ("0.0000000001", "1n"), ("-1.5", "-1500m"),
    ("0", "0"), ("0.0", "0"), ("-0", "0"), (".5", "500m"), ("1023", "1023"),
    ("100Mi", "100Mi"), ("5G", "5G"), ("+1", "+1"),
]


@pytest.mark.parametrize("text,canonical", CASES, ids=[c[0] for c in CASES])
def test_canonical_form(text, canonical):
    assert canonical_quantity(text) == canonical


@pytest.mark.parametrize("text,error", [
    ("", FORMAT_ERROR), ("abc", FORMAT_ERROR), ("1.2.3", FORMAT_ERROR),
    ("1 Gi", FORMAT_ERROR), ("1x", FORMAT_ERROR), ("1kk", SUFFIX_ERROR),
    ("1e", SUFFIX_ERROR), ("1Gi3", SUFFIX_ERROR),
], ids=["empty", "letters", "two-points", "space", "unknown-char",
        "double-suffix", "bare-exponent", "binary-exponent"])
def test_malformed(text, error):
    with pytest.raises(ValueError) as caught:
        canonical_quantity(text)

    assert str(caught.value) == error
