"""Quantities as k8s.io/apimachinery/pkg/api/resource parses and prints them.

``canonical_quantity("0.5")`` is ``"500m"``: the value is rounded up to a
billionth, kept in its format (binary suffix, decimal suffix or exponent) and
printed in the canonical form kube-apiserver stores. Like ParseQuantity, a
string already in canonical form is kept exactly as written.
"""

from __future__ import annotations

import decimal
from decimal import Decimal

FORMAT_ERROR = ("quantities must match the regular expression "
                "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
SUFFIX_ERROR = "unable to parse quantity's suffix"

_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9,
            "T": 12, "P": 15, "E": 18}
_DECIMAL_BY_EXPONENT = {e: s for s, e in _DECIMAL.items()}
_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_BINARY_BY_EXPONENT = {e // 10: s for s, e in _BINARY.items()}
_SUFFIX_CHARS = frozenset("eEinumkKMGTP")
_DIGITS = frozenset("0123456789")
_NANO = Decimal("1e-9")
_MAX = Decimal(2**63 - 1)
_CONTEXT = decimal.Context(prec=60, rounding=decimal.ROUND_UP)
_INT64 = 2**63


def canonical_quantity(text: str) -> str:
    """The canonical form of a quantity; ValueError with Kubernetes' message."""
    if text == "0":
        return "0"
    if not text:
        raise ValueError(FORMAT_ERROR)
    negative, num, denom, suffix = _split(text)
    base, exponent, fmt = _interpret(suffix)
    if _keeps_its_text(num, denom, base, exponent):
        return text
    value = _value(negative, num, denom, base, exponent)
    return _format(value, fmt)


def _split(text: str) -> tuple[bool, str, str, str]:
    """Sign, integer digits (no leading zeros), fraction digits and suffix,
    in the manner of parseQuantityString."""
    pos, end = 0, len(text)
    negative = text[0] == "-"
    if text[0] in "+-":
        pos = 1
    while pos < end and text[pos] == "0":
        pos += 1
    start = pos
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    num = text[start:pos] or "0"
    denom = ""
    if pos < end and text[pos] == ".":
        pos += 1
        start = pos
        while pos < end and text[pos] in _DIGITS:
            pos += 1
        denom = text[start:pos]
    suffix_start = pos
    while pos < end and text[pos] in _SUFFIX_CHARS:
        pos += 1
    if pos < end and text[pos] in "+-":
        pos += 1
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    if pos < end:
        raise ValueError(FORMAT_ERROR)
    return negative, num, denom, text[suffix_start:]


def _interpret(suffix: str) -> tuple[int, int, str]:
    if suffix in _DECIMAL:
        return 10, _DECIMAL[suffix], "DecimalSI"
    if suffix in _BINARY:
        return 2, _BINARY[suffix], "BinarySI"
    if len(suffix) > 1 and suffix[0] in "eE":
        exponent = suffix[1:]
        digits = exponent.lstrip("+-")
        if digits.isdigit() and len(exponent) - len(digits) <= 1:
            return 10, int(exponent), "DecimalExponent"
    raise ValueError(SUFFIX_ERROR)


def _keeps_its_text(num: str, denom: str, base: int, exponent: int) -> bool:
    # ParseQuantity keeps the caller's string when its fast path finds it
    # already canonical; MarshalJSON then prints it unchanged (so "+1" stays).
    shifted = num + denom
    if base == 10:
        if 18 - len(shifted) < 0:
            return False
        scale = exponent - len(denom)
        return (scale >= -9 and abs(int(shifted)) < _INT64
                and scale % 3 == 0 and not shifted.endswith("000")
                and shifted[0] != "0")
    if exponent < 0 or denom:
        return False
    precision = 15 - len(num) - int(exponent * 3 / 10) - 1
    value = int(shifted)
    return (precision >= 0 and (value << exponent) < _INT64
            and exponent % 10 == 0 and value & 7 != 0)


def _value(negative: bool, num: str, denom: str, base: int,
           exponent: int) -> Decimal:
    amount = Decimal(f"{num}.{denom or '0'}")
    amount = _CONTEXT.multiply(amount, Decimal(base) ** exponent)
    # Capped first: a huge exponent (1e400) has more digits than a billionth
    # can be counted in.
    amount = min(amount, _MAX)
    if amount:
        # Any non-zero amount is at least one billionth: rounded up, so that
        # asking for a tiny amount of a resource still asks for some.
        amount = amount.quantize(_NANO, context=_CONTEXT)
    return -amount if negative else amount


def _format(value: Decimal, fmt: str) -> str:
    if not value:
        return "0"
    if fmt == "BinarySI":
        if -1024 < value < 1024 or value != value.to_integral_value():
            fmt = "DecimalSI"
        else:
            return _binary(int(value))
    mantissa, exponent = _decimal_parts(value)
    if fmt == "DecimalExponent":
        suffix = f"e{exponent}" if exponent else ""
    else:
        suffix = _DECIMAL_BY_EXPONENT[exponent]
    return f"{mantissa}{suffix}"


def _decimal_parts(value: Decimal) -> tuple[int, int]:
    """value as mantissa * 10**exponent, the exponent a multiple of three and
    as large as possible."""
    sign, digits, exponent = value.normalize(_CONTEXT).as_tuple()
    mantissa = int("".join(map(str, digits)))
    while exponent % 3:
        mantissa *= 10
        exponent -= 1
    return (-mantissa if sign else mantissa), exponent


def _binary(value: int) -> str:
    exponent = 0
    while value % 1024 == 0 and exponent < 6:
        value //= 1024
        exponent += 1
    return f"{value}{_BINARY_BY_EXPONENT.get(exponent, '')}"
