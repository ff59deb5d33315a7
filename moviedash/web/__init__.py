"""The Flask side: per-request connections, the error handler, JSON and figure routes, OpenAPI, headers.

:mod:`moviedash.factory` wires these modules onto the server; nothing here
imports Dash.
"""
