"""What the kernel knows about a connection that the HTTP layer cannot see: whether the client has closed
its side (its FIN queued behind an unread body), when its first byte arrived (how long the request has
waited for a worker), and how many connections wait in the listen backlog.

The first byte's arrival is the kernel's own receive timestamp (SO_TIMESTAMPNS, switched on at the
listening socket and inherited by every connection it accepts), read with a peek that consumes nothing. It
is true for every upload size: a camera photo larger than the socket's receive buffer cannot arrive whole
until a worker reads it, so the time since its last byte says nothing of its wait, while its first byte
came when the client sent the request. The rest come from Linux's TCP_INFO; elsewhere they answer "still
there", None and 0.
"""

from __future__ import annotations

import socket
import struct
import time

# Linux tcp_states.h: the peer has sent FIN (CLOSE_WAIT), or the connection is already closed or closing.
TCP_CLOSE = 7
TCP_CLOSE_WAIT = 8
TCP_LAST_ACK = 9
PEER_CLOSED_STATES = (TCP_CLOSE, TCP_CLOSE_WAIT, TCP_LAST_ACK)
# struct tcp_info: eight u8 fields, then u32 fields; for a listening socket tcpi_unacked (the 5th u32)
# holds the accept queue's current length.
TCP_INFO_LENGTH = 104
UNACKED_OFFSET = 24
# ...and tcpi_last_data_recv (the 13th u32): milliseconds since the last segment carrying data arrived. A FIN
# carries none, so for a client that sent its request and then gave up it still counts from the request.
LAST_DATA_RECV_OFFSET = 52


def _tcp_info(sock: socket.socket) -> bytes | None:
    try:
        return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, TCP_INFO_LENGTH)
    except (OSError, AttributeError):  # not TCP (a Unix socket), or not Linux
        return None


def peer_has_closed(sock: socket.socket) -> bool:
    """True when the client has closed or reset its side, even if its request is still unread."""
    info = _tcp_info(sock)
    if info is None:
        try:
            return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True
    return info[0] in PEER_CLOSED_STATES


# Linux's SO_TIMESTAMPNS (socket(7)); its control message carries a struct timespec of CLOCK_REALTIME.
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
TIMESPEC = struct.Struct("qq")


def stamp_arrivals(listener: socket.socket) -> bool:
    """Have the kernel timestamp what arrives on the connections ``listener`` accepts; False where it cannot
    (the waits then fall back to ``waited_seconds``)."""
    try:
        listener.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    except (OSError, AttributeError):
        return False
    return True


def first_byte_arrival(sock: socket.socket) -> float | None:
    """When (``time.time()``) the first unread byte of ``sock`` arrived, as the kernel stamped it; the time
    now when nothing has arrived yet (the connection has not waited); None where the kernel keeps no
    stamps."""
    try:
        _data, ancillary, _flags, _address = sock.recvmsg(
            1, socket.CMSG_SPACE(TIMESPEC.size), socket.MSG_PEEK | socket.MSG_DONTWAIT
        )
    except BlockingIOError:
        return time.time()
    except (OSError, AttributeError):
        return None
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(payload) >= TIMESPEC.size:
            seconds, nanoseconds = TIMESPEC.unpack_from(payload)
            return seconds + nanoseconds / 1e9
    return None


def waited_seconds(sock: socket.socket) -> float | None:
    """Seconds since the client's last byte arrived: for a request taken from the backlog whole, how long it
    waited for a worker; for an upload still arriving, about nothing (where the first byte's stamp is
    missing, the fallback). None where the kernel cannot say."""
    info = _tcp_info(sock)
    if info is None or len(info) < LAST_DATA_RECV_OFFSET + 4:
        return None
    return struct.unpack_from("I", info, LAST_DATA_RECV_OFFSET)[0] / 1000


def queued_connections(listener: socket.socket) -> int:
    """Connections the kernel has accepted on ``listener`` that no worker has taken yet."""
    info = _tcp_info(listener)
    if info is None or len(info) < UNACKED_OFFSET + 4:
        return 0
    return struct.unpack_from("I", info, UNACKED_OFFSET)[0]
