"""A DNS server on loopback (dnspython's own wire format), for the doctor's DKIM check."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.resolver
import dns.rrset
import pytest


class DNSServer:
    """Answers TXT queries from ``records`` (name -> strings of one TXT record); any other
    name does not exist."""

    def __init__(self) -> None:
        self.records: dict[str, list[bytes]] = {}
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.settimeout(0.1)
        self.port = self.socket.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def resolver(self) -> dns.resolver.Resolver:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = ["127.0.0.1"]
        resolver.port = self.port
        resolver.lifetime = 2
        return resolver

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                wire, client = self.socket.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(wire)
            response = dns.message.make_response(query)
            question = query.question[0]
            strings = self.records.get(question.name.to_text(omit_final_dot=True))
            if strings is None:
                response.set_rcode(dns.rcode.NXDOMAIN)
            else:
                quoted = " ".join(f'"{part.decode()}"' for part in strings)
                response.answer.append(
                    dns.rrset.from_text(
                        question.name, 60, dns.rdataclass.IN, dns.rdatatype.TXT, quoted
                    )
                )
            self.socket.sendto(response.to_wire(), client)

    def __enter__(self) -> DNSServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.socket.close()


@pytest.fixture
def dns_server() -> Iterator[DNSServer]:
    with DNSServer() as server:
        yield server
