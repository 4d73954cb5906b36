"""WSGI environ keys through which the gunicorn worker tells the app about itself."""

# Set by a worker that is shutting down (imgopt/server/worker.py) on the requests it still answers.
DRAINING = "imgopt.draining"

# A callable that beats the worker's heartbeat: the app calls it at phase boundaries (the body is read).
HEARTBEAT = "imgopt.heartbeat"

# A callable: True once the client has closed its side of the connection (its FIN is queued).
CLIENT_GONE = "imgopt.client_gone"

# A callable: how many connections wait in the listen backlog for a worker.
QUEUED = "imgopt.queued"
