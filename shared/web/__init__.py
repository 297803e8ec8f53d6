"""aiohttp pieces every service shares: access log, error rendering, security headers."""
