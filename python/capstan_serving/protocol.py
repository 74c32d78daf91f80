"""Frames between the server and a worker on one socket: a 4-byte big-endian length, then a
4-byte length of a JSON header, the header, and the binary parts the header sizes in order."""
import json
import os
import struct

_LEN = struct.Struct(">I")


class Channel:
    """Reads and writes frames on a file descriptor (a socketpair end the server passed as fd 3)."""

    def __init__(self, fd):
        self.fd = fd
        self._buffer = bytearray()

    def _read_exact(self, size):
        while len(self._buffer) < size:
            chunk = os.read(self.fd, max(65536, size - len(self._buffer)))
            if not chunk:
                raise EOFError("the server closed the channel")
            self._buffer += chunk
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def receive(self):
        """Returns (header dict, body bytes) of the next frame."""
        (total,) = _LEN.unpack(self._read_exact(4))
        frame = self._read_exact(total)
        (header_size,) = _LEN.unpack_from(frame, 0)
        header = json.loads(frame[4 : 4 + header_size])
        return header, memoryview(frame)[4 + header_size :]

    def send(self, header, parts=()):
        """Sends a header and the binary parts it describes."""
        head = json.dumps(header, separators=(",", ":")).encode("utf-8")
        size = 4 + len(head) + sum(len(p) for p in parts)
        data = b"".join([_LEN.pack(size), _LEN.pack(len(head)), head, *parts])
        view = memoryview(data)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]
