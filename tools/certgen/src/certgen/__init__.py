"""Local certificate authority for the mTLS proxy: CA, server, client and test certificates."""

from certgen.generate import CertgenError, Layout, Settings, ensure_certificates

__all__ = ["CertgenError", "Layout", "Settings", "ensure_certificates"]
