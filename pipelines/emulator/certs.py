"""A local certificate authority and a server certificate for the loopback names, kept in a state directory.

Clients trust the emulator through its CA file (`connection_verify=`/`verify=`), never by turning TLS
verification off, so the client code that runs against a real tenant runs unchanged here. The files are
reused across runs while they are valid, and remade when they are missing, expiring, or do not cover a host.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import ipaddress
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

LOOPBACK_NAMES = ("127.0.0.1", "::1", "localhost")
CA_DAYS = 3650
SERVER_DAYS = 365
# Remake a certificate that would expire within this margin, so a long benchmark never sees it lapse.
RENEW_MARGIN = dt.timedelta(days=2)


@dataclass(frozen=True)
class ServerCertificate:
    ca_file: Path
    cert_file: Path  # server certificate followed by the CA: the chain the server presents
    key_file: Path


def ensure_certificates(state_dir: Path, hosts: Iterable[str] = ()) -> ServerCertificate:
    """The CA and server certificate in `state_dir`, made or remade as needed; valid for loopback + `hosts`."""
    state_dir.mkdir(parents=True, exist_ok=True)
    names = tuple(dict.fromkeys((*LOOPBACK_NAMES, *hosts)))
    paths = ServerCertificate(state_dir / "ca.pem", state_dir / "server.pem", state_dir / "server-key.pem")
    # Two emulators starting at once in one state dir must not interleave their writes.
    with open(state_dir / ".certs.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _still_valid(paths, names):
            _write_new(paths, names)
    return paths


def _still_valid(paths: ServerCertificate, names: tuple[str, ...]) -> bool:
    try:
        ca = x509.load_pem_x509_certificate(paths.ca_file.read_bytes())
        server = x509.load_pem_x509_certificate(paths.cert_file.read_bytes())
        key = serialization.load_pem_private_key(paths.key_file.read_bytes(), password=None)
        server.verify_directly_issued_by(ca)
    except (OSError, ValueError, TypeError, InvalidSignature):
        return False
    horizon = dt.datetime.now(dt.UTC) + RENEW_MARGIN
    if ca.not_valid_after_utc < horizon or server.not_valid_after_utc < horizon:
        return False
    if key.public_key().public_bytes(*_SPKI) != server.public_key().public_bytes(*_SPKI):
        return False
    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    covered = {str(ip) for ip in san.get_values_for_type(x509.IPAddress)} | set(san.get_values_for_type(x509.DNSName))
    return all(_normal(name) in covered for name in names)


_SPKI = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _normal(name: str) -> str:
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        return name.lower()


def _write_new(paths: ServerCertificate, names: tuple[str, ...]) -> None:
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)  # tolerate small clock skew
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pimlens emulator local CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    alt_names: list[x509.GeneralName] = []
    for name in names:
        try:
            alt_names.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt_names.append(x509.DNSName(name.lower()))
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pimlens emulator")]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=SERVER_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(server_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    key_pem = server_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    _write(paths.key_file, key_pem, mode=0o600)
    _write(paths.cert_file, server.public_bytes(pem) + ca.public_bytes(pem), mode=0o644)
    _write(paths.ca_file, ca.public_bytes(pem), mode=0o644)


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _write(path: Path, data: bytes, *, mode: int) -> None:
    """Write through a temporary file and rename, so a reader never sees half a PEM."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)
