"""Unsigned LEB128 varints: the numbers of the packed history formats (packing.py, blocks.py).

Seven bits a byte, least significant first, the high bit set on every byte
but the last: a count under 128 is one byte, a response time of 20 ms three.
"""
from __future__ import annotations


def append(out: bytearray, value: int) -> None:
    """Append ``value`` (not negative) to ``out``."""
    if value < 0:
        raise ValueError(f"a varint cannot hold {value}")
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)


def extend(out: bytearray, values) -> None:
    """Append each of ``values`` (not negative) to ``out``."""
    for value in values:
        # Most counts are under 128: one byte, without a call.
        if 0 <= value < 0x80:
            out.append(value)
        else:
            append(out, value)


def read(data: bytes, position: int, max_bits: int = 63) -> tuple[int, int]:
    """The number at ``position`` in ``data`` and the position after it.

    Raises IndexError when ``data`` ends inside it and ValueError when it runs
    past ``max_bits``: stored bytes are untrusted.
    """
    value = shift = 0
    while True:
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, position
        shift += 7
        if shift >= max_bits:
            raise ValueError("a varint too long")
