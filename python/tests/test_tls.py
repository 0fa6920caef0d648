"""Replicas of a hub on TLS with a private CA: trusted with `ca_file`, refused without; and
a hub that requires client certificates takes the replica's `cert_file` and `key_file`."""

import subprocess

import nic_client
import pytest

from conftest import Hub


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def tls_hub(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    make_ca_and_certs(d)
    hub = Hub(tls=(str(d / "hub.pem"), str(d / "hub.key")))
    yield hub, str(d / "ca.pem")
    assert hub.stop() == 0


def make_ca_and_certs(d):
    """A CA, the hub's certificate for 127.0.0.1 and a client certificate, all from it."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=nic test CA", cwd=d)
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    (d / "client.ext").write_text("extendedKeyUsage=clientAuth\n")
    for name, ext in (("hub", "san.ext"), ("client", "client.ext")):
        openssl("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr",
                "-subj", f"/CN={name}", cwd=d)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", ext, cwd=d)


def test_a_hub_that_requires_client_certificates_takes_the_replicas(tmp_path):
    make_ca_and_certs(tmp_path)
    hub = Hub(tls=(str(tmp_path / "hub.pem"), str(tmp_path / "hub.key"),
                   str(tmp_path / "ca.pem")))
    try:
        ca = str(tmp_path / "ca.pem")
        with nic_client.Replica(hub.url, hub.admin_token, ca_file=ca,
                                cert_file=str(tmp_path / "client.pem"),
                                key_file=str(tmp_path / "client.key")) as replica:
            assert replica.whoami()["member"]["id"] == "admin"
        with nic_client.Replica(hub.url, hub.admin_token, ca_file=ca) as replica:
            with pytest.raises(nic_client.Unreachable):
                replica.whoami()
        with pytest.raises(nic_client.InvalidArgument, match="go together"):
            nic_client.Replica(hub.url, hub.admin_token, ca_file=ca,
                               cert_file=str(tmp_path / "client.pem"))
    finally:
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
