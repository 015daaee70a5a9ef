"""Raw results packed many to a row: the byte format of one check's results in one hour.

A database row costs far more than the few bytes of one result (PostgreSQL
adds a 24-byte header, a line pointer and an index entry to every row), so raw
results are kept one row per check and hour, their results packed in bytes:

- one byte: the format version (1);
- per result, in ascending time order, no second twice:
  a flags byte: bits 0-1 the status (0 OK .. 3 UNKNOWN), bit 2 in a
  maintenance window, bit 3 a response time follows, bit 4 an error kind
  follows;
  the error kind when flagged: one byte, its index in ``ERROR_KINDS``, or 255
  followed by the length (one byte) and UTF-8 text of a kind not listed;
  the response time in microseconds when flagged, as an unsigned LEB128 varint;
  its second within the hour as two bytes (little-endian, 0 to 3599).

A minute's result of a service that answered in 20 ms takes six bytes. The
second comes last so that the last two bytes of a row tell its latest
result: a newer one is appended without reading the row (see ``last_second``).

Stored bytes are untrusted: ``unpack`` checks every field and raises
``CorruptPack`` rather than return results that were never recorded.
"""
from __future__ import annotations

from collections.abc import Iterable

from ..probing import Status
from . import leb128
from .rollup import MAX_LATENCY_US, Sample

#: The seconds one packed row covers.
HOUR = 3600
VERSION = 1

#: Error kinds by their one-byte code. Append only: a stored code must keep its meaning.
ERROR_KINDS = ("resolve_failed", "connect_refused", "connect_timeout", "tls_handshake", "cert_untrusted",
               "cert_hostname", "cert_expiring", "cert_expired", "starttls_unavailable", "protocol_error",
               "unexpected_reply", "expectation_failed", "read_timeout", "auth_failed", "config_error", "internal")
_CODES = {kind: code for code, kind in enumerate(ERROR_KINDS)}
# The code of a kind spelled out in full.
_SPELLED = 255

_STATUS_BITS = 0b11
_MAINTENANCE = 0b100
_HAS_LATENCY = 0b1000
_HAS_ERROR = 0b10000
_KNOWN_FLAGS = _STATUS_BITS | _MAINTENANCE | _HAS_LATENCY | _HAS_ERROR


class CorruptPack(ValueError):
    """Stored bytes that are not results packed by ``pack``."""


def hour_start(at: int) -> int:
    """The start of the hour (epoch seconds, UTC) that holds the epoch second ``at``."""
    return at - at % HOUR


def pack(samples: Iterable[Sample]) -> bytes:
    """The bytes of some samples of one hour, given in ascending time order, each second once."""
    out = bytearray((VERSION,))
    previous = -1
    start = None
    for sample in samples:
        start = hour_start(sample.checked_at) if start is None else start
        offset = sample.checked_at - start
        if not previous < offset < HOUR:
            raise ValueError(f"samples must be of one hour, in ascending time order: {sample}")
        previous = offset
        flags = int(sample.status) | (_MAINTENANCE if sample.in_maintenance else 0)
        latency = sample.latency_us
        if latency is not None:
            if not 0 <= latency <= MAX_LATENCY_US:
                raise ValueError(f"response time out of range: {sample}")
            flags |= _HAS_LATENCY
        if sample.error_kind is not None:
            flags |= _HAS_ERROR
        out.append(flags)
        if sample.error_kind is not None:
            code = _CODES.get(sample.error_kind)
            if code is None:
                text = sample.error_kind.encode()[:255]
                out += bytes((_SPELLED, len(text))) + text
            else:
                out.append(code)
        if latency is not None:
            leb128.append(out, latency)
        out += offset.to_bytes(2, "little")
    return bytes(out)


def last_second(data: bytes) -> int | None:
    """The second within its hour of the latest result in packed ``data``, read from its end; None when unsure.

    Only a hint for appending: the bytes before are not read.
    """
    if len(data) < 4 or data[0] != VERSION:
        return None
    second = int.from_bytes(data[-2:], "little")
    return second if second < HOUR else None


def unpack(check_id: int, start: int, data: bytes) -> list[Sample]:
    """The samples packed in ``data``, the row of check ``check_id`` for the hour from ``start``.

    Raises CorruptPack when the bytes are not what ``pack`` writes.
    """
    data = bytes(data)
    if start % HOUR or not data or data[0] != VERSION:
        raise CorruptPack(f"not packed results of format {VERSION} for an hour from {start}")
    samples = []
    position, end, previous = 1, len(data), -1
    try:
        while position < end:
            flags = data[position]
            position += 1
            if flags & ~_KNOWN_FLAGS:
                raise CorruptPack(f"result at byte {position - 1} of unknown flags")
            error_kind = None
            if flags & _HAS_ERROR:
                code = data[position]
                position += 1
                if code == _SPELLED:
                    length = data[position]
                    text = data[position + 1:position + 1 + length]
                    if len(text) != length:
                        raise CorruptPack("error kind cut short")
                    error_kind = text.decode()
                    position += 1 + length
                elif code < len(ERROR_KINDS):
                    error_kind = ERROR_KINDS[code]
                else:
                    raise CorruptPack(f"unknown error kind code {code}")
            latency = None
            if flags & _HAS_LATENCY:
                latency, position = leb128.read(data, position, max_bits=35)
                if latency > MAX_LATENCY_US:
                    raise CorruptPack(f"response time {latency} out of range")
            if position + 2 > end:
                raise CorruptPack("a result cut short")
            offset = int.from_bytes(data[position:position + 2], "little")
            position += 2
            if not previous < offset < HOUR:
                raise CorruptPack(f"result at second {offset} of the hour out of order")
            previous = offset
            samples.append(Sample(check_id, start + offset, Status(flags & _STATUS_BITS), latency, error_kind,
                                  bool(flags & _MAINTENANCE)))
    except (IndexError, ValueError) as error:
        raise CorruptPack(f"packed results cut short or garbled: {error}") from error
    return samples
