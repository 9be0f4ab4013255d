"""oVirt's Python SDK (ovirtsdk4) driving hostnetd.

Run by test/clients (make test-clients) with /usr/bin/python3 -m unittest
against a hostnetd serving its own sandbox namespace. The environment says
where: HOSTNETD_URL, HOSTNETD_USER, HOSTNETD_PASSWORD, HOSTNETD_HOST_NAME,
HOSTNETD_NS (the namespace, for reading the kernel back with ip(8)).
The switch of the sandbox answers the connectivity probe at 192.0.2.1, so
a checked change that keeps an address in 192.0.2.0/24 is confirmed.
Tests run in name order and each leaves the host as it found it.
"""

import json
import os
import re
import subprocess
import unittest
import urllib.request

import ovirtsdk4 as sdk
import ovirtsdk4.types as types

URL = os.environ["HOSTNETD_URL"]
NS = os.environ["HOSTNETD_NS"]
HOST_NAME = os.environ["HOSTNETD_HOST_NAME"]


def connect(step=None):
    headers = {"X-Client-Step": step} if step else None
    return sdk.Connection(
        url=URL,
        username=os.environ["HOSTNETD_USER"],
        password=os.environ["HOSTNETD_PASSWORD"],
        headers=headers,
    )


def ip(*args):
    return subprocess.run(["ip", "-n", NS] + list(args), check=True,
                          capture_output=True, text=True).stdout


def drift(step, *args):
    """Changes the kernel behind hostnetd's back, through the recorder, so
    that the contract replay makes the same change."""
    base = URL.split("/ovirt-engine")[0]
    req = urllib.request.Request(base + "/_hostnetd_test/ip", data=json.dumps(list(args)).encode(),
                                 headers={"X-Client-Step": step, "Content-Type": "application/json"})
    urllib.request.urlopen(req).read()


def addresses(dev):
    out = json.loads(ip("-j", "addr", "show", "dev", dev))
    return sorted("%s/%d" % (a["local"], a["prefixlen"])
                  for link in out for a in link.get("addr_info", [])
                  if a.get("scope") == "global")


def link_names():
    return sorted(link["ifname"] for link in json.loads(ip("-j", "link", "show")))


def static(address, netmask, gateway=None, version=types.IpVersion.V4):
    return types.IpAddressAssignment(
        assignment_method=types.BootProtocol.STATIC,
        ip=types.Ip(address=address, netmask=netmask, gateway=gateway, version=version))


class HostnetdSDK(unittest.TestCase):

    def setUp(self):
        self.conn = connect(self.id().rsplit(".", 1)[-1])
        self.system = self.conn.system_service()
        hosts = self.system.hosts_service()
        found = hosts.list(search='name="%s"' % HOST_NAME)
        self.assertEqual(len(found), 1, "search name=%s" % HOST_NAME)
        self.host = found[0]
        self.host_service = hosts.host_service(self.host.id)

    def tearDown(self):
        self.conn.close()

    def kernel_writes(self):
        """hostnetd's apply-phase kernel writes so far, from /metrics."""
        req = urllib.request.Request(
            URL.split("/ovirt-engine")[0] + "/metrics",
            headers={"Authorization": "Bearer " + self.conn.authenticate()})
        text = urllib.request.urlopen(req).read().decode()
        m = re.search(r'^hostnetd_netlink_writes_total\{phase="apply"\} (\S+)$', text, re.M)
        return float(m.group(1)) if m else 0.0

    def add_network(self, name, **kw):
        nets = self.system.networks_service()
        for n in nets.list(search='name="%s"' % name):
            nets.network_service(n.id).remove()
        net = nets.add(types.Network(name=name, data_center=types.DataCenter(name="Default"),
                                     usages=[types.NetworkUsage.VM], **kw))
        self.addCleanup(self.remove_network, net.id)
        return net

    def remove_network(self, net_id):
        with connect("cleanup") as conn:
            conn.system_service().networks_service().network_service(net_id).remove()

    def remove_qos(self, dc_id, qos_id):
        with connect("cleanup") as conn:
            conn.system_service().data_centers_service().data_center_service(dc_id).qoss_service().qos_service(qos_id).remove()

    def detach_all(self):
        with connect("cleanup") as conn:
            hs = conn.system_service().hosts_service().host_service(self.host.id)
            atts = hs.network_attachments_service().list()
            if atts:
                hs.setup_networks(removed_network_attachments=[a for a in atts], commit_on_success=True)

    # --- reads

    def test_01_api_root(self):
        api = self.system.get()
        self.assertEqual(api.product_info.name, "hostnetd")
        v = api.product_info.version
        self.assertIsNotNone(v, "product_info.version")
        self.assertEqual((v.major, v.minor), (4, 5))
        self.assertTrue(v.full_version.startswith("4.5"), v.full_version)

    def test_02_host_search(self):
        hosts = self.system.hosts_service()
        self.assertEqual([h.name for h in hosts.list()], [HOST_NAME])
        self.assertEqual(len(hosts.list(search="name=%s" % HOST_NAME)), 1)
        self.assertEqual(hosts.list(search="name=no-such-host"), [])
        self.assertEqual(hosts.list(search='name="no-such-host"'), [])
        self.assertEqual(self.host_service.get().name, HOST_NAME)

    def test_03_nics(self):
        nics = self.host_service.nics_service()
        names = sorted(n.name for n in nics.list())
        for eth in ("eth0", "eth1", "eth2", "eth3"):
            self.assertIn(eth, names)
        eth0 = [n for n in nics.list() if n.name == "eth0"][0]
        self.assertEqual(nics.nic_service(eth0.id).get().mac.address, eth0.mac.address)
        stats = nics.nic_service(eth0.id).statistics_service().list()
        self.assertTrue(any(s.name.startswith("data.") for s in stats), [s.name for s in stats])

    def test_04_faults(self):
        with self.assertRaises(sdk.NotFoundError):
            self.system.networks_service().network_service("no-such-network").get()
        with self.assertRaises(sdk.Error) as cm:
            self.host_service.setup_networks(modified_network_attachments=[types.NetworkAttachment(
                network=types.Network(name="no-such-network"), host_nic=types.HostNic(name="eth1"))])
        self.assertIn("no-such-network", str(cm.exception))

    def test_05_events(self):
        events = self.system.events_service().list(max=5)
        self.assertLessEqual(len(events), 5)
        self.assertEqual(self.host_service.get().id, self.host.id)

    def test_06_unmanaged_networks(self):
        self.assertEqual(self.host_service.unmanaged_networks_service().list(), [])

    # --- the network catalogue

    def test_10_network_crud(self):
        nets = self.system.networks_service()
        net = self.add_network("sdknet", mtu=1500, description="first")
        self.assertEqual(nets.network_service(net.id).get().name, "sdknet")
        self.assertEqual([n.id for n in nets.list(search='name="sdknet"')], [net.id])
        self.assertEqual([n.id for n in nets.list(search="name=sdknet")], [net.id])
        self.assertEqual(nets.list(search='name="sdknet" and datacenter="Default"')[0].id, net.id)
        self.assertEqual(nets.list(search='name="nosuchnet"'), [])
        nets.network_service(net.id).update(types.Network(mtu=9000, description="second"))
        got = nets.network_service(net.id).get()
        self.assertEqual((got.mtu, got.description), (9000, "second"))

    # --- host networking

    def test_20_static_checked_and_committed(self):
        self.add_network("sdkmgmt")
        self.addCleanup(self.detach_all)
        att = types.NetworkAttachment(network=types.Network(name="sdkmgmt"),
                                      host_nic=types.HostNic(name="eth1"),
                                      ip_address_assignments=[static("192.0.2.20", "255.255.255.0")])
        self.host_service.setup_networks(modified_network_attachments=[att],
                                         check_connectivity=True, connectivity_timeout=10,
                                         commit_on_success=True)
        self.assertEqual(addresses("sdkmgmt"), ["192.0.2.20/24"])
        atts = self.host_service.network_attachments_service().list()
        self.assertEqual(len(atts), 1)
        self.assertTrue(atts[0].in_sync)
        # The same request again changes nothing in the kernel.
        before = self.kernel_writes()
        self.host_service.setup_networks(modified_network_attachments=[att],
                                         check_connectivity=True, commit_on_success=True)
        self.assertEqual(self.kernel_writes(), before)

    def test_21_lost_connection_rolls_back(self):
        self.add_network("sdklost")
        links = link_names()
        with self.assertRaises(sdk.Error) as cm:
            self.host_service.setup_networks(
                modified_network_attachments=[types.NetworkAttachment(
                    network=types.Network(name="sdklost"), host_nic=types.HostNic(name="eth1"),
                    ip_address_assignments=[static("198.51.100.20", "255.255.255.0")])],
                check_connectivity=True, connectivity_timeout=2)
        self.assertIn("LOST_CONNECTION", str(cm.exception))
        self.assertEqual(link_names(), links)
        self.assertEqual(self.host_service.network_attachments_service().list(), [])

    def test_22_per_nic_attachments_dhcp_ipv6(self):
        self.add_network("sdkdhcp")
        self.add_network("sdkv6")
        self.addCleanup(self.detach_all)
        nics = self.host_service.nics_service()
        by_name = {n.name: n for n in nics.list()}
        eth2 = nics.nic_service(by_name["eth2"].id).network_attachments_service()
        eth2.add(types.NetworkAttachment(
            network=types.Network(name="sdkdhcp"),
            ip_address_assignments=[types.IpAddressAssignment(assignment_method=types.BootProtocol.DHCP)]))
        eth3 = nics.nic_service(by_name["eth3"].id).network_attachments_service()
        att = eth3.add(types.NetworkAttachment(
            network=types.Network(name="sdkv6"),
            ip_address_assignments=[static("2001:db8::20", "64", version=types.IpVersion.V6)]))
        self.assertIn("2001:db8::20/64", addresses("sdkv6"))
        got = eth3.attachment_service(att.id).get()
        self.assertTrue(got.in_sync)
        methods = [a.assignment_method for a in got.ip_address_assignments]
        self.assertIn(types.BootProtocol.STATIC, methods)
        dhcp = eth2.list()[0]
        self.assertIn(types.BootProtocol.DHCP, [a.assignment_method for a in dhcp.ip_address_assignments])
        # Edit in place: another address.
        eth3.attachment_service(att.id).update(types.NetworkAttachment(
            ip_address_assignments=[static("2001:db8::21", "64", version=types.IpVersion.V6)]))
        self.assertIn("2001:db8::21/64", addresses("sdkv6"))
        self.host_service.commit_net_config()

    def test_23_drift_and_sync(self):
        self.add_network("sdksync")
        self.addCleanup(self.detach_all)
        self.host_service.setup_networks(modified_network_attachments=[types.NetworkAttachment(
            network=types.Network(name="sdksync"), host_nic=types.HostNic(name="eth1"),
            ip_address_assignments=[static("192.0.2.23", "255.255.255.0")])])
        drift("test_23_drift_and_sync", "addr", "flush", "dev", "sdksync")
        att = self.host_service.network_attachments_service().list()[0]
        self.assertFalse(att.in_sync)
        self.assertTrue(att.reported_configurations)
        self.host_service.sync_all_networks()
        self.assertTrue(self.host_service.network_attachments_service().list()[0].in_sync)
        self.assertEqual(addresses("sdksync"), ["192.0.2.23/24"])

    def test_25_host_network_qos(self):
        """A QoS of the data center's catalogue, named by a network: on a
        kernel that shapes with HFSC the attachment gets its class and is in
        sync; on one without (the development kernel) it is refused before
        any change, with the engine's code."""
        dcs = self.system.data_centers_service()
        dc = dcs.list(search="name=Default")[0]
        qoss = dcs.data_center_service(dc.id).qoss_service()
        qos = qoss.add(types.Qos(name="sdkgold", type=types.QosType.HOSTNETWORK,
                                 outbound_average_linkshare=50, outbound_average_upperlimit=100))
        self.addCleanup(self.remove_qos, dc.id, qos.id)
        self.assertEqual(qoss.qos_service(qos.id).get().outbound_average_linkshare, 50)
        self.assertIn(qos.id, [q.id for q in qoss.list()])
        net = self.add_network("sdkqos", qos=types.Qos(id=qos.id))
        self.assertEqual(self.system.networks_service().network_service(net.id).get().qos.id, qos.id)
        links = link_names()
        att = types.NetworkAttachment(network=types.Network(name="sdkqos"), host_nic=types.HostNic(name="eth2"),
                                      qos=types.Qos(type=types.QosType.HOSTNETWORK, outbound_average_linkshare=20))
        try:
            self.host_service.setup_networks(modified_network_attachments=[att])
        except sdk.Error as e:
            self.assertIn("ACTION_TYPE_FAILED_HOST_NETWORK_QOS_NOT_SUPPORTED", str(e))
            self.assertEqual(link_names(), links)
            return
        self.addCleanup(self.detach_all)
        got = self.host_service.network_attachments_service().list()[0]
        self.assertTrue(got.in_sync)
        self.assertEqual(got.qos.outbound_average_linkshare, 20)

    def test_24_async(self):
        self.add_network("sdkasync")
        self.addCleanup(self.detach_all)
        self.host_service.setup_networks(
            modified_network_attachments=[types.NetworkAttachment(
                network=types.Network(name="sdkasync"), host_nic=types.HostNic(name="eth2"))],
            async_=True)
        # The write slot serialises: a synchronous read-after-write through
        # another setupnetworks waits for the background one.
        self.host_service.setup_networks(modified_network_attachments=[types.NetworkAttachment(
            network=types.Network(name="sdkasync"), host_nic=types.HostNic(name="eth2"))])
        self.assertIn("sdkasync", link_names())


if __name__ == "__main__":
    unittest.main()
