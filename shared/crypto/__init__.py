"""Hashing, password verification, signing keys and key encryption."""
