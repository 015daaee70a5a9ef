"""Write the private CA and the server certificate the integration daemons use.

Usage: make_certs.py FOLDER. Writes ca.pem (the private CA, what tests trust),
server.pem (the leaf certificate then the CA) and server.key. The leaf names
localhost, 127.0.0.1, ::1 and the test zone's mail host, so a probe of
127.0.0.1 that trusts ca.pem verifies cleanly and one that asks for another
name or trusts the system store does not.
"""
import sys
from pathlib import Path

import trustme

NAMES = ("localhost", "127.0.0.1", "::1", "mail.ninerstatus.test")


def main(folder: Path) -> None:
    """Make the CA and the leaf under ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="ninerstatus integration CA")
    leaf = ca.issue_cert(*NAMES)
    ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    with open(folder / "server.pem", "wb") as chain:
        for blob in leaf.cert_chain_pems:
            chain.write(blob.bytes())
    leaf.private_key_pem.write_to_path(str(folder / "server.key"))
    (folder / "server.key").chmod(0o600)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
