"""Encryption at rest of sensitive fields (docs/encryption.md)."""
