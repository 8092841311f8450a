"""A real IMAP server for the tests and benchmarks: Debian's Dovecot, started on a free
loopback port with a configuration of its own in a temporary directory, run as the current
user, users from a file.

Messages reach it the way mail clients put them there: IMAP APPEND.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from imapclient import IMAPClient

from core.runtime.embedded import free_port

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
INSTALL = "apt-get install dovecot-imapd"
USER, PASSWORD = "support@example.com", "imap-secret-93c1"
STARTUP_SECONDS = 30.0


@dataclass(frozen=True)
class ImapServer:
    port: int
    root: Path

    @property
    def url(self) -> str:
        return f"imap://127.0.0.1:{self.port}/INBOX"

    def env(self) -> dict[str, str]:
        """What `tracker up` and the follower read to reach this mailbox."""
        return {"TRACKER_EMAIL_IMAP_URL": self.url, "TRACKER_EMAIL_IMAP_USER": USER,
                "TRACKER_EMAIL_IMAP_PASSWORD": PASSWORD}  # fmt: skip

    @contextmanager
    def client(self) -> Iterator[IMAPClient]:
        client = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=30)
        client.login(USER, PASSWORD)
        try:
            yield client
        finally:
            client.logout()

    def append(self, messages: list[bytes], when: datetime | None = None, folder: str = "INBOX") -> None:
        """Deliver messages with IMAP APPEND (MULTIAPPEND where the server has it)."""
        with self.client() as client:
            if client.has_capability("MULTIAPPEND") and len(messages) > 1:
                for start in range(0, len(messages), 1000):
                    chunk = messages[start : start + 1000]
                    client.multiappend(folder, [{"msg": m, "date": when} if when else m for m in chunk])
            else:
                for message in messages:
                    client.append(folder, message, msg_time=when)


def _service_users() -> tuple[str, str, str]:
    """Dovecot runs as the current user; as root, its login processes and mail access must not
    (Dovecot refuses), so they take the users Debian's package creates (dovenull, dovecot)."""
    user, group = pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name
    return ("dovenull", "dovecot", "dovecot") if os.getuid() == 0 else (user, user, group)


def _mail_owner() -> tuple[int, int]:
    if os.getuid() != 0:
        return os.getuid(), os.getgid()
    owner = pwd.getpwnam("dovecot")
    return owner.pw_uid, owner.pw_gid


_CONFIG = """
base_dir = {run}
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
first_valid_uid = {uid}
first_valid_gid = {gid}
mail_location = maildir:{run}/mail/%u
mail_fsync = never
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {run}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {run}/users
  default_fields = uid={uid} gid={gid} home={run}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap {{
  process_limit = 64
}}
protocol imap {{
  mail_max_userip_connections = 64
}}
"""
"""Dovecot's configuration: IMAP on one loopback port, mailboxes under the run directory."""


def _config(root: Path, run: Path, port: int) -> str:
    login_user, internal_user, internal_group = _service_users()
    uid, gid = _mail_owner()
    return _CONFIG.format(
        root=root, run=run, port=port, uid=uid, gid=gid, login_user=login_user,
        internal_user=internal_user, internal_group=internal_group,
    )  # fmt: skip


@contextmanager
def dovecot(root: Path) -> Iterator[ImapServer]:
    """A running Dovecot with one mailbox user; stopped (and its files left for a look) after."""
    if not Path(DOVECOT).exists():
        raise RuntimeError(f"Dovecot is not installed: {INSTALL}")
    port = free_port()
    (root / "state").mkdir(parents=True, exist_ok=True)
    # Sockets, users and mail, where Dovecot's processes (other users, under root) reach them.
    run = Path(tempfile.mkdtemp(prefix="dovecot-run-"))
    run.chmod(0o755)
    for folder in ("mail", "home"):
        (run / folder).mkdir()
        os.chown(run / folder, *_mail_owner())
    (run / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")  # read by its auth process too
    (root / "dovecot.conf").write_text(_config(root, run, port))
    proc = subprocess.Popen([DOVECOT, "-F", "-c", str(root / "dovecot.conf")], stderr=subprocess.PIPE)
    try:
        _wait_listening(port, proc, root)
        yield ImapServer(port, root)
    finally:
        proc.terminate()
        proc.wait(15)
        shutil.rmtree(run, ignore_errors=True)


def _wait_listening(port: int, proc: subprocess.Popen[bytes], root: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
            raise RuntimeError(
                f"dovecot exited {proc.returncode}: {proc.stderr.read() if proc.stderr else b''!r} {log}"
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                if sock.recv(64).startswith(b"* OK"):
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"dovecot did not answer on port {port} within {STARTUP_SECONDS} s")
