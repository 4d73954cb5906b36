"""What the kernel knows about a connection that the HTTP layer cannot see: whether the client has closed
its side (its FIN queued behind an unread body), how long ago its last byte arrived (how long the request
has waited for a worker), and how many connections wait in the listen backlog.

All come from Linux's TCP_INFO, read without consuming a byte; elsewhere they answer "still there", None
and 0.
"""

from __future__ import annotations

import socket
import struct

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


def waited_seconds(sock: socket.socket) -> float | None:
    """Seconds since the client's last byte arrived: for a request taken from the backlog whole, how long it
    waited for a worker; for an upload still arriving, about nothing. None where the kernel cannot say."""
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
