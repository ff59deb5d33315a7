"""The dashboard's CSS and JavaScript, served by Dash at ``/assets/``.

This folder is installed as the package ``moviedash.assets`` (see
``[tool.setuptools.package-dir]`` in pyproject.toml), so a wheel ships it and
the server finds it with :mod:`importlib.resources`, wherever it is installed.
"""
