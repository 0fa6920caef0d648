"""A replica of a hub on TLS with a private CA: trusted with `ca_file`, refused without."""

import subprocess

import nic_client
import pytest

from conftest import Hub


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def tls_hub(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=nic test CA", cwd=d)
    openssl("req", *ec, "-keyout", "hub.key", "-out", "hub.csr", "-subj", "/CN=127.0.0.1", cwd=d)
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "hub.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "hub.pem", "-days", "2", "-extfile", "san.ext", cwd=d)
    hub = Hub(tls=(str(d / "hub.pem"), str(d / "hub.key")))
    yield hub, str(d / "ca.pem")
    assert hub.stop() == 0


def test_a_replica_trusts_the_hubs_private_ca_when_given_it(tls_hub):
    hub, ca = tls_hub
    assert hub.url.startswith("https://")
    with nic_client.Replica(hub.url, hub.admin_token, ca_file=ca) as replica:
        assert replica.whoami()["member"]["id"] == "admin"
        replica.reconnect()  # returns once the sync stream's attempt ends; raises if it failed
        assert replica.status()["connection"] == "online"


def test_without_the_ca_the_hub_is_unreachable_and_says_why(tls_hub):
    hub, _ = tls_hub
    with nic_client.Replica(hub.url, hub.admin_token) as replica:
        with pytest.raises(nic_client.Unreachable):
            replica.whoami()
    with pytest.raises(nic_client.InvalidArgument):
        nic_client.Replica(hub.url, hub.admin_token, ca_file="/no/such/ca.pem")
