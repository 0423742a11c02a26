"""mnist_core: the library behind the MNIST studio.

Stages, one module each, data flowing one way:
store -> data -> models -> train -> evaluate -> store, and image -> preprocess -> predict.
The CLI (``python -m mnist_core``), the Streamlit app and the Kubeflow pipeline all call
these same functions.
"""

__version__ = "0.1.0"
