# One image for the whole studio:
#   - the Streamlit app, its default command (docker-compose.yml runs it next to a MinIO);
#   - the Kubeflow pipeline's steps: KFP replaces the command with its own, which runs each step's
#     function with this image's Python, where kfp and mnist_core are already installed;
#   - the model server, as a KServe custom predictor: `python -m mnist_core serve --host 0.0.0.0` on 8080.
#
#   docker build -t mnist-studio:latest .
#   docker run --rm -p 8501:8501 mnist-studio:latest      # the app on http://localhost:8501
#
# docs/KUBEFLOW.md shows how to push it where a cluster can pull it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TF_CPP_MIN_LOG_LEVEL=2 \
    PYTHONPATH=/app \
    MNIST_STORE_DIR=/var/lib/mnist-studio

WORKDIR /app

# The requirements first, so that a change to the code does not reinstall TensorFlow.
COPY requirements.txt .
RUN pip install -r requirements.txt

# The library, the app, the bundled model and the sample images (.dockerignore keeps the rest out).
COPY . .

# Not root. The home directory holds the Keras download of MNIST; the store directory is the local
# store, or the spool of runs waiting for MinIO (docker-compose.yml mounts a volume there).
RUN useradd --create-home --uid 1000 studio \
    && mkdir -p "$MNIST_STORE_DIR" \
    && chown studio "$MNIST_STORE_DIR"
USER studio

EXPOSE 8501 8080
CMD ["streamlit", "run", "app.py"]
