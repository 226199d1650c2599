"""The one-way result channel from a grading sandbox to the grader: framed messages on a pipe.

The driver inside the sandbox (:mod:`course.grading.inside`) writes to the pipe the grader gave it
as standard output; nothing it sends touches the host's disk. A message is one header line
``KIND TOKEN LENGTH`` (ASCII, at most :data:`MAX_HEADER` bytes) followed by ``LENGTH`` bytes:

- ``start TOKEN 0``: the step TOKEN begins;
- ``array TOKEN LENGTH``: one returned value of the step, a float64 ``.npy`` file (no pickle);
- ``end TOKEN LENGTH``: the step's JSON record (a small object).

Student code runs in the driver's process and may write to the pipe too. The grader therefore reads
the stream as hostile data (:class:`Reader`): a malformed header line is skipped, a message longer
than its kind allows or a stream longer than :data:`MAX_STREAM_BYTES` is a flood (the grader kills
the sandbox), and a record or array is parsed with size checks before anything is allocated.
"""
from __future__ import annotations

import io
import json
import os
import re

import numpy as np

MAX_HEADER = 128
MAX_RECORD_BYTES = 64 * 1024
"""Largest JSON record of one step."""
MAX_STREAM_BYTES = 512 * 1024**2
"""More than this on one sandbox's channel is a flood: the sandbox is killed."""
KINDS = ("start", "array", "end")
_HEADER = re.compile(rb"(start|array|end) ([0-9a-f]{1,64}) (\d{1,12})")


def message(kind: str, token: str, payload: bytes = b"") -> bytes:
    """One framed message (the driver's side)."""
    return f"{kind} {token} {len(payload)}\n".encode("ascii") + payload


def npy_bytes(array: np.ndarray) -> bytes:
    """``array`` as the bytes of a ``.npy`` file, without pickles."""
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array, dtype=np.float64), allow_pickle=False)
    return buffer.getvalue()


def write_all(fd: int, data: bytes) -> None:
    """Write every byte of ``data`` to ``fd`` (a pipe takes at most its capacity per call)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class Flood(Exception):
    """The channel carried more than a message of its kind, or the stream, may."""


class Reader:
    """Turns the bytes of the channel, as they arrive, into ``(kind, token, payload)`` messages.

    ``max_array_bytes`` bounds one ``array`` message; an ``end`` message may carry at most
    :data:`MAX_RECORD_BYTES`. Bytes that do not form a header line are skipped up to the next
    newline."""

    def __init__(self, max_array_bytes: int):
        self.max_array_bytes = max_array_bytes
        self.buffer = bytearray()
        self.total = 0
        self.pending: tuple[str, str, int] | None = None  # a header whose payload has not fully arrived
        self.skipping = False

    def feed(self, data: bytes) -> list[tuple[str, str, bytes]]:
        self.total += len(data)
        if self.total > MAX_STREAM_BYTES:
            raise Flood(f"more than {MAX_STREAM_BYTES // 1024**2} MiB on the result channel")
        self.buffer += data
        messages = []
        while True:
            if self.pending is not None:
                kind, token, length = self.pending
                if len(self.buffer) < length:
                    return messages
                payload = bytes(self.buffer[:length])
                del self.buffer[:length]
                self.pending = None
                messages.append((kind, token, payload))
                continue
            newline = self.buffer.find(b"\n", 0, MAX_HEADER + 1)
            if newline < 0:
                if len(self.buffer) > MAX_HEADER:  # no header fits: skip to the next newline
                    self.skipping = True
                    self.buffer.clear()
                return messages
            line = bytes(self.buffer[:newline])
            del self.buffer[: newline + 1]
            if self.skipping:
                self.skipping = False
                continue
            match = _HEADER.fullmatch(line)
            if match is None:
                continue
            kind, token, length = match.group(1).decode(), match.group(2).decode(), int(match.group(3))
            if length > (MAX_RECORD_BYTES if kind == "end" else self.max_array_bytes if kind == "array" else 0):
                raise Flood(f"a {kind} message of {length} bytes on the result channel")
            self.pending = (kind, token, length)


def parse_record(payload: bytes) -> dict | None:
    """The JSON object in ``payload``, or None (not UTF-8, not JSON, nested too deep, not an object)."""
    try:
        data = json.loads(payload.decode("utf-8"))
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def parse_array(payload: bytes, max_values: int) -> np.ndarray | None:
    """A float64 array of at most ``max_values`` values from ``.npy`` bytes, else None. The header is
    checked before anything is allocated (a forged shape cannot make the grader reserve terabytes),
    and nothing is unpickled."""
    handle = io.BytesIO(payload)
    try:
        version = np.lib.format.read_magic(handle)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read_header(handle)
        size = 1
        for length in shape:
            size *= length
        if dtype != np.dtype("<f8") or size > max_values or len(payload) - handle.tell() != 8 * size:
            return None
        values = np.frombuffer(payload, dtype=dtype, count=size, offset=handle.tell()).copy()
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError, OverflowError):  # a forged header
        return None
    return values.reshape(shape, order="F" if fortran else "C")
