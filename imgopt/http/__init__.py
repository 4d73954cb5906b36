"""The HTTP layer: Flask blueprints, auth, request hooks, uploads, form parsing, errors and response bodies.

It turns requests into calls of the imaging layer (imgopt.imaging) and its results into responses; it is the
only package that imports Flask or Werkzeug.
"""
