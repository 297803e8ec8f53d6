"""The demo client: a small web app that signs in with Latchkey and calls the resource API.

It is what a newcomer opens first after `make run` (http://localhost:8000): the whole
authorization code flow with PKCE, state and nonce, the decoded tokens, the API's answers,
refresh, revocation and logout, each a visible step.
"""
