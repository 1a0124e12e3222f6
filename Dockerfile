# One image for every finsent process (migrate, worker, alerter, dashboard); the command picks the role.
# The default build is the CPU image. The GPU image runs the model on CUDA through onnxruntime-gpu
# (the `gpu` extra) on an NVIDIA base; compose's `gpu` profile builds it with:
#   docker build --build-arg BASE_IMAGE=nvidia/cuda:12.6.3-cudnn-runtime-ubuntu24.04 \
#                --build-arg FINSENT_EXTRAS=gpu -t finsent:gpu .
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}
# Extras of the finsent distribution to install, comma-separated (e.g. gpu); none by default.
ARG FINSENT_EXTRAS=
WORKDIR /app
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH
# CUDA base images carry no Python: take the distribution's (3.12 on Ubuntu 24.04). A virtual
# environment either way, since Ubuntu's system Python refuses pip installs.
RUN if ! command -v python3 >/dev/null 2>&1; then \
        apt-get update \
        && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
            python3 python3-venv \
        && rm -rf /var/lib/apt/lists/*; \
    fi \
    && python3 -m venv /opt/venv
COPY pyproject.toml README.md ./
COPY finsent ./finsent
COPY model ./model
COPY stream ./stream
COPY monitor ./monitor
COPY dashboard ./dashboard
COPY migrations ./migrations
# onnxruntime (a core dependency) and onnxruntime-gpu install into the same `onnxruntime`
# package, and whichever pip wrote last wins; with the gpu extra, the CPU build is removed and
# the same onnxruntime-gpu version written again so its CUDA provider is the one imported.
RUN pip install ".${FINSENT_EXTRAS:+[${FINSENT_EXTRAS}]}" \
    && case ",${FINSENT_EXTRAS}," in \
        *,gpu,*) \
            gpu_version="$(python -c "import importlib.metadata as m; print(m.version('onnxruntime-gpu'))")" \
            && pip uninstall -y onnxruntime \
            && pip install --force-reinstall --no-deps "onnxruntime-gpu==${gpu_version}" ;; \
    esac \
    && useradd --create-home finsent
USER finsent
# The dashboard, the worker's and the alerter's /metrics, /healthz and /readyz.
EXPOSE 8501 9464 9465
ENTRYPOINT ["finsent"]
CMD ["--help"]
