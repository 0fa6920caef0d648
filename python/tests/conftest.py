"""A real nic-hub with the demo network, and the `nic` command signed in to it as the hub
admin, for the package's tests. NIC_HUB_BIN and NIC_BIN name the binaries
(scripts/python-package builds them)."""

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile

import pytest

HUB_BIN = os.environ.get("NIC_HUB_BIN", "target/debug/nic-hub")
NIC_BIN = os.environ.get("NIC_BIN", "target/debug/nic")
NETWORK = "algebra-readiness"


class Hub:
    """nic-hub on an OS-chosen loopback port over a temporary folder, with `nic` beside it."""

    def __init__(self, tls=None):
        """With `tls` (certificate and key files, and optionally a CA its clients'
        certificates must come from), the hub serves TLS and no demo is made."""
        self.dir = tempfile.mkdtemp(prefix="nic-pkg-")
        data = os.path.join(self.dir, "data")
        self.home = os.path.join(self.dir, "home")
        os.mkdir(self.home)
        tls_args = ["--tls-cert", tls[0], "--tls-key", tls[1]] if tls else []
        if tls and len(tls) > 2:
            tls_args += ["--tls-client-ca", tls[2]]
        self.child = subprocess.Popen(
            [HUB_BIN, "serve", "--listen", "127.0.0.1:0", "--data-dir", data,
             "--metrics-listen", "off", *tls_args],
            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
        )
        address = None
        for line in self.child.stdout:
            found = re.search(r"listening on (\S+)", line)
            if found:
                address = found.group(1)
                break
        if address is None:
            raise RuntimeError(f"the hub exited ({self.child.wait()}) before it listened")
        self.url = f"{'https' if tls else 'http'}://{address}"
        with open(os.path.join(data, "admin-token"), encoding="utf-8") as f:
            self.admin_token = f.read().strip()
        if tls is None:
            self.nic("login", "--hub", self.url, "--token-file",
                     os.path.join(data, "admin-token"))
            self.nic("demo")

    def nic(self, *args):
        """Runs `nic` as the hub admin; returns what it printed."""
        env = {**os.environ, "HOME": self.home, "NIC_REPLICA": os.path.join(self.home, "replica")}
        done = subprocess.run([NIC_BIN, *args], env=env, capture_output=True, text=True,
                              timeout=120, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"nic {' '.join(args)} failed: {done.stderr}")
        return done.stdout

    def nic_json(self, *args):
        return json.loads(self.nic("--json", *args))

    def member(self, member, role, site=None):
        """Adds a member and returns a token for them."""
        self.nic("members", "add", member, "--role", role, *(["--site", site] if site else []),
                 "--name", member.title())
        path = os.path.join(self.dir, f"{member}.token")
        self.nic("members", "token", member, "--to-file", path)
        with open(path, encoding="utf-8") as f:
            return f.read().strip()

    def stop(self):
        self.child.send_signal(signal.SIGTERM)
        code = self.child.wait(timeout=30)
        self.child.stdout.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        return code


@pytest.fixture(scope="session")
def hub():
    h = Hub()
    yield h
    assert h.stop() == 0, "the hub did not stop cleanly"
