"""A Python client built from proto/ alone with protoc's stubs (grpcio-tools), against a
real nic-hub: WhoAmI and Directory with the bootstrap token, Insight through the generated
stub, and the service list through grpcio-reflection, which speaks reflection v1alpha.

Run by scripts/python-stubs, which generates the stubs and puts them on PYTHONPATH, with
NIC_HUB_BIN pointing at a built hub.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

import grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from nic.v1 import common_pb2, directory_pb2, directory_pb2_grpc, insight_pb2, insight_pb2_grpc

HUB_BIN = os.environ.get("NIC_HUB_BIN", "target/debug/nic-hub")
# Every call's deadline: a hung hub fails the test instead of stalling CI.
TIMEOUT = 10


class Hub:
    """nic-hub on an OS-chosen loopback port over a temporary data folder."""

    def __init__(self):
        self.data_dir = tempfile.mkdtemp(prefix="nic-py-")
        self.child = subprocess.Popen(
            [HUB_BIN, "serve", "--listen", "127.0.0.1:0", "--data-dir", self.data_dir,
             "--metrics-listen", "off"],
            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
        )
        self.address = None
        for line in self.child.stdout:
            found = re.search(r"listening on (\S+)", line)
            if found:
                self.address = found.group(1)
                break
        if self.address is None:
            raise RuntimeError(f"the hub exited ({self.child.wait()}) before it listened")
        # The first start wrote the hub admin's token beside the database.
        with open(os.path.join(self.data_dir, "admin-token"), encoding="utf-8") as f:
            token = f.read().strip()
        self.metadata = [("authorization", f"Bearer {token}")]
        self.channel = grpc.insecure_channel(self.address)

    def stop(self):
        self.channel.close()
        self.child.send_signal(signal.SIGTERM)
        code = self.child.wait(timeout=30)
        self.child.stdout.close()
        shutil.rmtree(self.data_dir, ignore_errors=True)
        return code


class PythonStubs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.hub = Hub()

    @classmethod
    def tearDownClass(cls):
        assert cls.hub.stop() == 0, "the hub did not stop cleanly"

    def call(self, method, request):
        return method(request, metadata=self.hub.metadata, timeout=TIMEOUT)

    def test_whoami_and_directory_with_the_bootstrap_token(self):
        directory = directory_pb2_grpc.DirectoryStub(self.hub.channel)
        me = self.call(directory.WhoAmI, directory_pb2.WhoAmIRequest())
        self.assertEqual(me.member.role, common_pb2.ROLE_HUB_ADMIN)
        self.assertTrue(me.hub_version)

        made = self.call(directory.CreateNetwork, directory_pb2.CreateNetworkRequest(
            network_id="py-directory", name="Python directory network"))
        self.assertEqual(made.network.network_id, "py-directory")
        listed = self.call(directory.ListNetworks, directory_pb2.ListNetworksRequest())
        self.assertIn("py-directory", [n.network_id for n in listed.networks])

    def test_a_call_without_the_token_is_unauthenticated(self):
        directory = directory_pb2_grpc.DirectoryStub(self.hub.channel)
        with self.assertRaises(grpc.RpcError) as refused:
            directory.WhoAmI(directory_pb2.WhoAmIRequest(), timeout=TIMEOUT)
        self.assertEqual(refused.exception.code(), grpc.StatusCode.UNAUTHENTICATED)

    def test_insight_overviews_through_the_generated_stub(self):
        directory = directory_pb2_grpc.DirectoryStub(self.hub.channel)
        self.call(directory.CreateNetwork, directory_pb2.CreateNetworkRequest(
            network_id="py-insight", name="Python insight network"))
        insight = insight_pb2_grpc.InsightStub(self.hub.channel)
        overview = self.call(insight.NetworkOverview,
                             insight_pb2.NetworkOverviewRequest(network_id="py-insight"))
        self.assertIsInstance(overview, insight_pb2.NetworkOverviewResponse)
        self.assertEqual(overview.network_id, "py-insight")
        self.assertEqual(overview.cycles, 0)
        district = self.call(insight.DistrictOverview, insight_pb2.DistrictOverviewRequest())
        self.assertIn("py-insight", [n.network_id for n in district.networks])

    def test_reflection_v1alpha_lists_and_describes_the_services(self):
        # grpcio-reflection asks for v1alpha only; reflection needs no token.
        reflection = ProtoReflectionDescriptorDatabase(self.hub.channel)
        services = set(reflection.get_services())
        for name in ["nic.v1.Sync", "nic.v1.Documents", "nic.v1.Directory", "nic.v1.Insight",
                     "grpc.health.v1.Health"]:
            self.assertIn(name, services)
        file = reflection.FindFileContainingSymbol("nic.v1.Insight")
        self.assertEqual(file.name, "nic/v1/insight.proto")
        rpcs = {m.name: m.output_type for m in file.service[0].method}
        self.assertEqual(rpcs["NetworkOverview"], ".nic.v1.NetworkOverviewResponse")


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    failed = len(result.failures) + len(result.errors)
    print(f"python: {result.testsRun - failed} passed, {failed} failed")
    sys.exit(1 if failed or not result.wasSuccessful() else 0)
