"""Validation of probe targets: only plain host names and IP addresses get through."""
from __future__ import annotations

import pytest

from ninerstatus.probing import Family, InvalidTarget, Target, TlsMode, validate_host, validate_port


@pytest.mark.parametrize(("host", "normalised"), [
    ("mail.example.com", "mail.example.com"),
    ("Mail.Example.COM", "mail.example.com"),
    ("example.com.", "example.com."),
    ("localhost", "localhost"),
    ("_sip._tcp.example.com", "_sip._tcp.example.com"),
    ("café.example", "xn--caf-dma.example"),
    ("192.0.2.10", "192.0.2.10"),
    ("2001:DB8::1", "2001:db8::1"),
    ("[2001:db8::1]", "2001:db8::1"),
    ("::1", "::1"),
    ("a" * 63 + ".example", "a" * 63 + ".example"),
])
def test_validate_host_accepts_and_normalises(host, normalised):
    assert validate_host(host) == normalised


@pytest.mark.parametrize(("host", "complaint"), [
    ("", "empty"),
    ("mail example.com", "space"),
    ("mail.example.com\r\nQUIT", "control"),
    ("mail\x00.example.com", "control"),
    ("\tmail.example.com", "space"),
    ("-oProxyCommand=evil", "dash"),
    ("http://mail.example.com", "URL"),
    ("https://mail.example.com/status", "URL"),
    ("mail.example.com/status", "path"),
    ("mail.example.com:25", "port field"),
    ("[2001:db8::1]:25", "bracketed"),
    ("[mail.example.com]", "bracketed"),
    ("mail..example.com", "empty label"),
    ("a" * 64 + ".example", "longer than 63"),
    (("a" * 60 + ".") * 5 + "com", "longer than 253"),
    ("user@mail.example.com", "invalid label"),
    ("mail-.example.com", "invalid label"),
    ("256.1.1.1", "IPv4"),
    ("1.2.3", "IPv4"),
])
def test_validate_host_rejects_with_a_clear_message(host, complaint):
    with pytest.raises(InvalidTarget, match=complaint):
        validate_host(host)


def test_invalid_target_is_a_value_error():
    assert issubclass(InvalidTarget, ValueError)


@pytest.mark.parametrize("port", [1, 25, 65535])
def test_validate_port_accepts_1_to_65535(port):
    assert validate_port(port) == port


@pytest.mark.parametrize("port", [0, -1, 65536, True, "25", 25.0])
def test_validate_port_rejects_anything_else(port):
    with pytest.raises(InvalidTarget):
        validate_port(port)


def test_target_validates_and_normalises_on_construction():
    target = Target("[2001:DB8::1]", 993, family="ipv6", tls="implicit")
    assert (target.host, target.family, target.tls) == ("2001:db8::1", Family.IPV6, TlsMode.IMPLICIT)
    assert str(target) == "[2001:db8::1]:993"
    with pytest.raises(InvalidTarget):
        Target("http://example.com", 80)


def test_target_refuses_an_address_of_the_other_family():
    with pytest.raises(InvalidTarget, match="IPv4 but family ipv6"):
        Target("192.0.2.1", 25, family=Family.IPV6)


def test_target_server_name_is_the_tls_name_when_given():
    assert Target("192.0.2.1", 465).server_name == "192.0.2.1"
    assert Target("192.0.2.1", 465, tls_name="Mail.Example.com.").server_name == "mail.example.com"
