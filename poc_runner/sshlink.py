"""The link to an `ssh://` engine, made patient with sshd's limit on channels.

The docker SDK makes each call to an ssh:// engine a channel of one SSH connection (paramiko),
and sshd refuses channels past its MaxSessions (10 by default): a run's parallel calls
(bringing twelve services up, saving their logs, removing them) went past it and failed with
"open failed: Connect failed". Two things keep within it: every call shares one pool, which
keeps at most IDLE channels open between calls (the SDK's own keeps a pool of ten per URL),
and a channel refused is asked for again shortly, as the calls in flight end and free theirs.
"""

from __future__ import annotations

import time
from typing import Any

IDLE = 4  # channels kept open between calls, of sshd's 10
RETRIES = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2)  # seconds between asks for a refused channel
_KEY = "http+docker://ssh"  # the one pool's key, whatever the URL


def patient(adapter: type[Any]) -> type[Any]:
    """The SDK's SSH adapter, with one pool of patient connections."""
    import paramiko  # type: ignore[import-untyped]
    from docker.transport.sshconn import SSHConnection, SSHConnectionPool

    class PatientConnection(SSHConnection):  # type: ignore[misc]
        def connect(self) -> None:
            """Open the channel; a refusal (or, when several are refused at once, paramiko's
            plain "Unable to open channel", as it hands each refusal to any one waiter) is
            asked again while the SSH connection itself is up."""
            for pause in (*RETRIES, None):
                try:
                    super().connect()
                    return
                except paramiko.SSHException:
                    if pause is None or not self.ssh_transport.is_active():
                        raise
                    time.sleep(pause)

    class PatientPool(SSHConnectionPool):  # type: ignore[misc]
        def _new_conn(self) -> PatientConnection:
            return PatientConnection(self.ssh_transport, self.timeout, self.ssh_host)

    class PatientAdapter(adapter):  # type: ignore[misc]
        def get_connection(self, url: str, proxies: Any = None) -> Any:
            with self.pools.lock:
                pool = self.pools.get(_KEY)
                if pool is None:
                    if self.ssh_client and not self.ssh_client.get_transport():
                        self._connect()  # the SSH connection closed: make it again
                    pool = PatientPool(
                        ssh_client=self.ssh_client,
                        timeout=self.timeout,
                        maxsize=IDLE,
                        host=self.ssh_host,
                    )
                    self.pools[_KEY] = pool
            return pool

    return PatientAdapter
