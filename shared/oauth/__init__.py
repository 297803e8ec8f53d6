"""OAuth 2.0 wire rules every endpoint shares: the one request parser and the one scope grammar."""
