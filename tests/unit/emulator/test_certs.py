import ssl
from pathlib import Path

from cryptography import x509

from pipelines.emulator.certs import ensure_certificates


def test_certificates_are_reused_while_valid_and_remade_for_new_hosts(tmp_path: Path) -> None:
    first = ensure_certificates(tmp_path)
    ca_bytes = first.ca_file.read_bytes()
    assert ensure_certificates(tmp_path).ca_file.read_bytes() == ca_bytes
    assert (first.key_file.stat().st_mode & 0o777) == 0o600

    ensure_certificates(tmp_path, hosts=("pimlens.test",))
    assert first.ca_file.read_bytes() != ca_bytes
    server = x509.load_pem_x509_certificate(first.cert_file.read_bytes())
    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {"localhost", "pimlens.test"} <= set(san.get_values_for_type(x509.DNSName))


def test_a_damaged_certificate_is_replaced(tmp_path: Path) -> None:
    paths = ensure_certificates(tmp_path)
    paths.cert_file.write_text("not a certificate")
    ensure_certificates(tmp_path)
    server = x509.load_pem_x509_certificate(paths.cert_file.read_bytes())
    server.verify_directly_issued_by(x509.load_pem_x509_certificate(paths.ca_file.read_bytes()))
    # The key matches the certificate (load_cert_chain checks that).
    ssl.create_default_context().load_cert_chain(paths.cert_file, paths.key_file)
