# imgopt: a small, non-root image that runs gunicorn with gunicorn.conf.py.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SVT_LOG=1

RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin imgopt

WORKDIR /app

# Dependencies first, in their own layer, so code changes do not reinstall them.
COPY setup.py setup.cfg README.md ./
RUN mkdir imgopt && touch imgopt/__init__.py \
    && pip install . \
    && pip uninstall --yes imgopt \
    && rm -rf imgopt build

COPY imgopt ./imgopt
COPY wsgi.py gunicorn.conf.py ./
RUN pip install --no-deps . && rm -rf build

USER imgopt
EXPOSE 3000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PORT', '3000'), timeout=2)"]
CMD ["gunicorn", "-c", "gunicorn.conf.py"]
