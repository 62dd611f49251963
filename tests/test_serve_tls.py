"""https and mutual TLS with certificates made in the test (trustme)."""

from __future__ import annotations

import asyncio
import ssl

import aiohttp
import pytest
import trustme

from k8saudit_cli.serve.config import ServeConfig, ServeError, TlsFiles
from k8saudit_cli.serve.tls import server_context
from tests.serve_support import Live, event_list, events, metric

HTTPS = "https://127.0.0.1:0/k8s-audit"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A server CA and certificate (one PEM with the key, as Falco's sslCertificate), and a
    client CA with the API server's client certificate."""
    d = tmp_path_factory.mktemp("pki")
    server_ca, client_ca, stranger_ca = trustme.CA(), trustme.CA(), trustme.CA()
    server_ca.issue_cert("127.0.0.1", "localhost").private_key_and_cert_chain_pem.write_to_path(
        str(d / "server.pem")
    )
    client_ca.cert_pem.write_to_path(str(d / "client-ca.pem"))
    return {
        "dir": d,
        "server_ca": server_ca,
        "client": client_ca.issue_cert("kube-apiserver"),
        "stranger": stranger_ca.issue_cert("kube-apiserver"),
    }


def client_context(pki, cert=None) -> ssl.SSLContext:
    context = ssl.create_default_context()
    pki["server_ca"].configure_trust(context)
    if cert is not None:
        cert.configure_cert(context)
    return context


async def post(url, context):
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=event_list(events(3)), ssl=context) as response:
            return response.status


def test_https_with_one_pem_holding_certificate_and_key(pki):
    files = TlsFiles(str(pki["dir"] / "server.pem"))

    async def scenario():
        async with Live(ServeConfig(listen=HTTPS, tls=files)) as live:
            assert live.url.startswith("https://127.0.0.1:")
            return await post(live.url, client_context(pki)), live

    status, live = asyncio.run(scenario())
    assert status == 200 and live.stats.events_read == 3


def test_mutual_tls(pki):
    files = TlsFiles(str(pki["dir"] / "server.pem"), client_ca=str(pki["dir"] / "client-ca.pem"))

    async def scenario():
        async with Live(ServeConfig(listen=HTTPS, tls=files)) as live:
            good = await post(live.url, client_context(pki, pki["client"]))
            anonymous = await post(live.url, client_context(pki))
            with pytest.raises((aiohttp.ClientError, ssl.SSLError, ConnectionError)):
                await post(live.url, client_context(pki, pki["stranger"]))
            async with aiohttp.ClientSession() as session:
                url = live.base + "/metrics"
                async with session.get(url, ssl=client_context(pki)) as response:
                    text = await response.text()
            return good, anonymous, text, live

    good, anonymous, text, live = asyncio.run(scenario())
    assert (good, anonymous) == (200, 403)
    assert metric(text, 'k8saudit_serve_auth_refusals_total{reason="no_client_certificate"}') == 1
    assert live.stats.events_read == 3


def test_unusable_certificate_files(tmp_path, pki):
    (tmp_path / "bad.pem").write_text("not a certificate\n")
    with pytest.raises(ServeError, match="cannot load the TLS certificate"):
        server_context(TlsFiles(str(tmp_path / "bad.pem")))
    with pytest.raises(ServeError, match=r"falco\.pem"):
        server_context(TlsFiles(str(tmp_path / "falco.pem")))
    with pytest.raises(ServeError, match="--client-ca"):
        server_context(TlsFiles(str(pki["dir"] / "server.pem"), client_ca=str(tmp_path / "x")))
    with pytest.raises(ServeError, match="needs an https"):
        Live(ServeConfig(tls=TlsFiles("x", client_ca="y"), listen="http://127.0.0.1:0/a"))
