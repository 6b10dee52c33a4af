"""The server programs the production layout starts (postgres, initdb, redis-server, nginx) and the accounts they run as."""

from __future__ import annotations

import glob
import logging
import os
import pwd
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

logger = logging.getLogger(__name__)


def service_user(name: str) -> Optional[pwd.struct_passwd]:
    """The system account a service should drop to when we run as root (None when not root)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def chown_tree(path: Path, account: Optional[pwd.struct_passwd]) -> None:
    """Give a folder (recursively) to a service account."""
    if account is None:
        return
    for root, dirs, files in os.walk(path):
        os.chown(root, account.pw_uid, account.pw_gid)
        for name in dirs + files:
            os.chown(os.path.join(root, name), account.pw_uid, account.pw_gid, follow_symlinks=False)


def _pg_version(folder: str) -> int:
    """The major version in /usr/lib/postgresql/<version>/bin (0 when not a number)."""
    version = folder.split("/")[-2]
    return int(version) if version.isdigit() else 0


@dataclass(frozen=True)
class Binaries:
    """Paths of the server programs the production layout starts."""

    postgres: Optional[str]
    initdb: Optional[str]
    redis_server: Optional[str]
    nginx: Optional[str]

    @classmethod
    def find(cls, pg_bin: str = "") -> "Binaries":
        """Look in pg_bin (PG_BIN), /usr/lib/postgresql/<newest>/bin, /usr/sbin and PATH."""
        pg_dirs = [pg_bin] if pg_bin else []
        pg_dirs += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_pg_version, reverse=True)

        def pg(name: str) -> Optional[str]:
            for folder in pg_dirs:
                candidate = Path(folder) / name
                if candidate.is_file() and os.access(candidate, os.X_OK):
                    return str(candidate)
            return shutil.which(name)

        path = os.pathsep.join([os.environ.get("PATH", os.defpath), "/usr/sbin", "/usr/local/sbin"])
        return cls(postgres=pg("postgres"), initdb=pg("initdb"), redis_server=shutil.which("redis-server", path=path),
                   nginx=shutil.which("nginx", path=path))

    def missing(self, need_postgres: bool = True, need_redis: bool = True) -> List[str]:
        """Names of the programs that were not found."""
        wanted = {"nginx": self.nginx}
        if need_postgres:
            wanted.update(postgres=self.postgres, initdb=self.initdb)
        if need_redis:
            wanted["redis-server"] = self.redis_server
        return [name for name, path in wanted.items() if not path]
