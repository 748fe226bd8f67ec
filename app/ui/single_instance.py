"""One window per data folder: a second launch hands over to the first and exits.

The first instance listens on a local socket named after its data folder; a second launch
connects, says "show", and the first brings its window to the front.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtNetwork import QLocalServer, QLocalSocket


def socket_name(data_dir: Path) -> str:
    digest = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:16]
    return f"cadence-{digest}"


def hand_over(data_dir: Path, timeout_ms: int = 1000) -> bool:
    """True if a running instance took the request (this launch should then exit)."""
    socket = QLocalSocket()
    socket.connectToServer(socket_name(data_dir))
    if not socket.waitForConnected(timeout_ms):
        return False
    socket.write(b"show\n")
    socket.flush()
    socket.waitForBytesWritten(timeout_ms)
    socket.disconnectFromServer()
    return True


class InstanceServer(QObject):
    """Listens for later launches; ``on_show`` runs on the GUI thread for each."""

    def __init__(
        self, data_dir: Path, on_show: Callable[[], None], parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.on_show = on_show
        self.server = QLocalServer(self)
        name = socket_name(data_dir)
        if not self.server.listen(name):
            QLocalServer.removeServer(name)  # a stale socket left by a crash
            self.server.listen(name)
        self.server.newConnection.connect(self._accept)

    def _accept(self) -> None:
        while self.server.hasPendingConnections():
            connection = self.server.nextPendingConnection()
            connection.readyRead.connect(lambda c=connection: self._read(c))

    def _read(self, connection: QLocalSocket) -> None:
        if bytes(connection.readAll().data()).strip() == b"show":
            self.on_show()
        connection.disconnectFromServer()

    def close(self) -> None:
        self.server.close()
