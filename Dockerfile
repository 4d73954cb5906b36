# imgopt: a small non-root image that runs gunicorn with gunicorn.conf.py.
# Build: docker build -t imgopt .    Run: docker run --stop-timeout 45 -e API_TOKEN=... -p 3000:3000 imgopt
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SVT_LOG=1 \
    HOST=0.0.0.0 \
    PORT=3000 \
    HEALTH_PORT=3001

RUN groupadd --system --gid 10001 imgopt \
    && useradd --system --uid 10001 --gid 10001 --home-dir /app --shell /usr/sbin/nologin imgopt

WORKDIR /app

# Dependencies first, in a layer of their own: a code change does not reinstall Pillow and friends.
COPY setup.py setup.cfg README.md ./
RUN mkdir imgopt && touch imgopt/__init__.py \
    && pip install . \
    && pip uninstall --yes imgopt \
    && rm -rf imgopt build ./*.egg-info

# The package is installed (so it has its version and data files) and its source removed: one copy, the one
# that runs. wsgi.py and gunicorn.conf.py stay in /app and import it from site-packages.
COPY imgopt ./imgopt
COPY wsgi.py gunicorn.conf.py ./
RUN pip install --no-deps . && rm -rf build ./*.egg-info imgopt

USER 10001:10001

# 3000: the API. 3001: the probe responder in the gunicorn master (answers even while every worker is busy).
EXPOSE 3000 3001

# On SIGTERM gunicorn finishes the requests in flight and answers those already queued, for up to 30 s
# (graceful_timeout); give the container a longer stop grace period: docker run --stop-timeout 45,
# docker-compose.yml stop_grace_period 45s, Kubernetes terminationGracePeriodSeconds 45 (Docker's default is 10).
STOPSIGNAL SIGTERM

HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('HEALTH_PORT', '3001'), timeout=2)"]

CMD ["gunicorn", "-c", "gunicorn.conf.py"]
