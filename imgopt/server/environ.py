"""WSGI environ keys through which the gunicorn worker tells the app about itself."""

# Set by a worker that is shutting down (imgopt/server/worker.py) on the requests it still answers.
DRAINING = "imgopt.draining"
