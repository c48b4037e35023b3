"""The plain-http guard decides the host as the transport connects to it, and opens no socket otherwise.

Each refused form is checked through the client and the Dagster resource with an audit hook that records
(and blocks) every ``socket.connect`` outside loopback, so a test run can never leak traffic even if the
guard regressed. The accepted forms are exercised over real sockets: plain http to a loopback sandbox, and
https to a TLS server on 127.0.0.1 with a throwaway certificate.
"""

from __future__ import annotations

import ipaddress
import json
import shutil
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hubspot_loader.errors import HubSpotConfigurationError
from hubspot_loader.http.base_url import check_base_url, transport_host
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.http.retry import RetryPolicy
from hubspot_loader.http.settings import ClientSettings

TOKEN = "pat-guard-secret-token"
NO_RETRY = RetryPolicy(max_attempts=1, backoff_base_s=0.01, backoff_max_s=0.01, max_elapsed_s=5)

_connects: list[Any] = []
_recording = threading.local()


def _is_loopback_address(address: Any) -> bool:
    if not isinstance(address, tuple) or not address:
        return True  # unix sockets and the like are not network traffic
    try:
        return ipaddress.ip_address(str(address[0]).split("%")[0]).is_loopback
    except ValueError:
        return False


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event != "socket.connect":
        return
    address = args[1] if len(args) > 1 else None
    if getattr(_recording, "on", False):
        _connects.append(address)
    if not _is_loopback_address(address):
        raise PermissionError(f"test blocked a connection outside loopback: {address!r}")


sys.addaudithook(_audit)  # audit hooks cannot be removed; this one only records while asked to


@pytest.fixture
def connects() -> Iterator[list[Any]]:
    """Every address this thread's sockets try to connect to during the test."""
    _connects.clear()
    _recording.on = True
    try:
        yield _connects
    finally:
        _recording.on = False


REFUSED = [
    "http://hubspot.example.invalid\\@127.0.0.1:9",  # the reported bypass: urllib3 ends the host at "\"
    "http://hubspot.example.invalid\\@localhost/",
    "http://evil.example\\@[::1]:9/",
    "http://user@127.0.0.1:9",  # user info: parsers disagree on where the host starts
    "http://user:pw@localhost:9",
    "http://127.0.0.1@evil.example",
    "http://127.0.0.1 @evil.example",
    "http://127.0.0.1:9 /",  # whitespace
    "http://127.0.0.1\t:9",
    "http://127.0.0.1\n.evil.example",  # control characters
    "http://127.0.0.1\x00.evil.example",
    " http://127.0.0.1:9",
    "http://%31%32%37.0.0.1:9",  # percent-encoded host parts
    "http://127.0.0.1%2eevil.example",
    "http://[::1%25lo]:9",
    "http://127.0.0.1:9?next=http://evil.example",  # query and fragment
    "http://127.0.0.1:9#@evil.example",
    "http://l\u043ecalhost:9",  # a Cyrillic o
    "http://evil.example",  # plain http, not loopback
    "http://10.0.0.1:8080",
    "http://[::ffff:127.0.0.1]:9",  # IPv4-mapped: not the loopback range as Python reads it
    "http://localhost.evil.example",
    "http://127.0.0.1:99999",
    "ftp://127.0.0.1",
    "127.0.0.1:9",
    "nonsense",
    "",
]


@pytest.mark.parametrize("url", REFUSED)
def test_refused_base_urls_open_no_socket(url: str, connects: list[Any]) -> None:
    with pytest.raises(HubSpotConfigurationError) as caught:
        client = HubSpotClient(
            TOKEN, base_url=url, settings=ClientSettings(retry=NO_RETRY, timeout=(0.5, 0.5))
        )
        client.properties("contacts")  # only reached if the guard let it through
    assert TOKEN not in str(caught.value)
    assert connects == []


@pytest.mark.parametrize("url", REFUSED[:6])
def test_resource_refuses_the_same_forms_without_connecting(url: str, connects: list[Any]) -> None:
    from hubspot_loader.dagster.resource import HubSpotResource

    resource = HubSpotResource(access_token=TOKEN, base_url=url)
    with pytest.raises(HubSpotConfigurationError) as caught:
        resource.client_for(resource.base_url).properties("contacts")
    assert TOKEN not in str(caught.value)
    assert connects == []


_piece = st.sampled_from(
    ["127.0.0.1", "localhost", "[::1]", "evil.example", "10.1.2.3", "@", "\\", "/", ":", ":9", "%2e",
     "%40", " ", "\t", "\r\n", "\x00", "?", "#", ".", "[", "]", "user", "\u00e9", "\uff10"]
)


_SCHEMES = st.sampled_from(["http://", "https://", "HTTP://", "http:/", "http:\\\\"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_SCHEMES, st.lists(_piece, max_size=6))
def test_any_accepted_url_is_read_alike_and_never_plain_http_off_loopback(
    scheme: str, pieces: list[str]
) -> None:
    url = scheme + "".join(pieces)
    try:
        checked = check_base_url(url)
    except HubSpotConfigurationError as exc:
        assert TOKEN not in str(exc)
        return
    transport = transport_host(checked.url)
    assert transport == checked.host == (urlsplit(checked.url).hostname or "").lower()
    if checked.scheme == "http":
        assert checked.loopback
        assert checked.host == "localhost" or ipaddress.ip_address(checked.host).is_loopback


def test_plain_http_loopback_still_works(sandbox: Any, connects: list[Any]) -> None:
    for spelled in (sandbox.base_url, sandbox.base_url.replace("http://", "HTTP://") + "/"):
        with HubSpotClient(
            sandbox.token, base_url=spelled, settings=ClientSettings(retry=NO_RETRY)
        ) as client:
            assert any(p["name"] == "email" for p in client.properties("contacts"))
    assert connects and all(_is_loopback_address(a) for a in connects)


def test_plain_http_never_goes_through_an_environment_proxy(
    sandbox: Any, monkeypatch: pytest.MonkeyPatch, connects: list[Any]
) -> None:
    """``HTTP_PROXY`` would receive the Authorization header in clear text: loopback http bypasses it."""
    with socket.socket() as proxy:
        proxy.bind(("127.0.0.1", 0))
        proxy.listen(4)
        proxy.setblocking(False)
        proxy_url = f"http://127.0.0.1:{proxy.getsockname()[1]}"
        for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.setenv(name, proxy_url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        client = HubSpotClient(
            sandbox.token,
            base_url=sandbox.base_url,
            settings=ClientSettings(retry=NO_RETRY, timeout=(10, 30)),
        )
        with client:
            assert client.properties("contacts")
        with pytest.raises(BlockingIOError):
            proxy.accept()  # nobody connected to the proxy
    sandbox_port = int(sandbox.base_url.rsplit(":", 1)[1])
    assert {a[1] for a in connects} == {sandbox_port}


class _PropertiesHandler(BaseHTTPRequestHandler):
    seen_auth: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.seen_auth.append(self.headers.get("Authorization", ""))
        body = json.dumps({"results": [{"name": "email", "type": "string", "fieldType": "text"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An https server on 127.0.0.1 with a fresh self-signed certificate (``openssl``, Debian's package)."""
    openssl = shutil.which("openssl")
    assert openssl, "openssl is needed to make the test certificate"
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *(openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"),
            *("-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PropertiesHandler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", cert
    finally:
        server.shutdown()
        server.server_close()


def test_https_still_works_and_verifies_certificates(
    tls_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, cert = tls_server
    _PropertiesHandler.seen_auth.clear()
    patient = ClientSettings(retry=NO_RETRY, timeout=(10, 30))
    with HubSpotClient(TOKEN, base_url=url, settings=patient) as client:
        with pytest.raises(Exception) as untrusted:  # not in the CA bundle: verification is on
            client.properties("contacts")
        assert "CERTIFICATE_VERIFY_FAILED" in str(untrusted.value) and TOKEN not in str(untrusted.value)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    with HubSpotClient(TOKEN, base_url=url, settings=patient) as client:
        assert [p["name"] for p in client.properties("contacts")] == ["email"]
    assert _PropertiesHandler.seen_auth == [f"Bearer {TOKEN}"]


@pytest.mark.parametrize("url", REFUSED[:6])
def test_cli_refuses_the_same_forms_with_exit_2_without_connecting(
    url: str, connects: list[Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    from hubspot_loader.cli import main

    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    frame = tmp_path / "contacts.csv"
    frame.write_text("id,email\n1,a@example.com\n", encoding="utf-8")
    code = main(["load", str(frame), "--object-type", "contacts", "--key", "id", "--base-url", url])
    captured = capsys.readouterr()
    assert code == 2
    assert "base_url" in captured.err and TOKEN not in captured.err + captured.out
    assert connects == []
