# One image for every finsent process (migrate, worker, dashboard); the command picks the role.
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
COPY pyproject.toml README.md ./
COPY finsent ./finsent
COPY model ./model
COPY stream ./stream
COPY monitor ./monitor
COPY dashboard ./dashboard
COPY migrations ./migrations
RUN pip install . && useradd --create-home finsent
USER finsent
ENTRYPOINT ["finsent"]
CMD ["--help"]
