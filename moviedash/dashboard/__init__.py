"""The Dash user interface: layout, callbacks and URL state."""
