"""The authorize service: authorization endpoint, login, consent, logout and discovery."""
