#!/usr/bin/env python3
"""Test certificates for the TLS tests, made with PyPI's cryptography (nothing is fetched).

  make_certs.py DIR

Writes PEM files into DIR: ca.pem/ca.key (the CA), server.pem/server.key and
server2.pem/server2.key (two certificates for 127.0.0.1 and localhost, subjects `trapline-server-1`
and `trapline-server-2`, for a rotation), client.pem/client.key (signed by the CA),
expired-client.pem/expired-client.key (signed by the CA, expired yesterday), and
wrong-ca.pem with wrong-client.pem/wrong-client.key (a client signed by another CA).
"""
import datetime
import ipaddress
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

directory = sys.argv[1]
now = datetime.datetime.now(datetime.timezone.utc)


def write(name, key, cert):
    with open(f"{directory}/{name}.key", "wb") as out:
        out.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    with open(f"{directory}/{name}.pem", "wb") as out:
        out.write(cert.public_bytes(serialization.Encoding.PEM))


def name(common):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def authority(common):
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(name(common)).issuer_name(name(common))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def leaf(common, ca_key, ca_cert, server, not_before, not_after):
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (x509.CertificateBuilder().subject_name(name(common)).issuer_name(ca_cert.subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(not_before).not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage(
                   [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False))
    if server:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
    return key, builder.sign(ca_key, hashes.SHA256())


ca_key, ca_cert = authority("trapline-test-ca")
write("ca", ca_key, ca_cert)
valid = (now - datetime.timedelta(days=1), now + datetime.timedelta(days=30))
write("server", *leaf("trapline-server-1", ca_key, ca_cert, True, *valid))
write("server2", *leaf("trapline-server-2", ca_key, ca_cert, True, *valid))
write("client", *leaf("trapline-client", ca_key, ca_cert, False, *valid))
write("expired-client", *leaf("trapline-expired-client", ca_key, ca_cert, False,
                              now - datetime.timedelta(days=30), now - datetime.timedelta(days=1)))
wrong_key, wrong_cert = authority("another-ca")
write("wrong-ca", wrong_key, wrong_cert)
write("wrong-client", *leaf("trapline-wrong-client", wrong_key, wrong_cert, False, *valid))
