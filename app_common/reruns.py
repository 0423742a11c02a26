"""Keeping reruns fast once TensorFlow is loaded."""

from __future__ import annotations

import gc
import sys

import streamlit as st


def keep_reruns_fast() -> None:
    """Stop Streamlit resetting Keras after each rerun, and hide TensorFlow's objects from the garbage collector.

    Importing TensorFlow adds about 330,000 objects the garbage collector tracks, and a full collection
    after a rerun walked them all: each rerun of every page was 150-400 ms slower (measured by
    benchmarks/app_timing.py). ``gc.freeze()`` moves them to a generation that is never scanned; the app
    calls this after each page, so the first rerun that loads TensorFlow (the Predict page, or a training
    job's thread) is the last slow one.
    """
    _keep_keras_state()
    if "tensorflow" in sys.modules:
        _freeze_loaded_objects()


@st.cache_resource(show_spinner=False)
def _freeze_loaded_objects() -> None:
    gc.freeze()


@st.cache_resource(show_spinner=False)
def _keep_keras_state() -> None:
    """Replace Streamlit's clean-up after every run of a page or fragment with one that leaves Keras alone.

    Streamlit's ``_clean_problem_modules`` calls ``keras.backend.clear_session()``: a full garbage
    collection, TensorFlow's kernel cache emptied, and Keras's global state replaced for every thread,
    also under a model training in the job's thread. With the Train page open, its live refresh every
    second held training to 60% of the CLI's images per second (97% with the page closed); without the
    reset, 85-88%. The app keeps its models for the server's life and needs no reset; pyplot figures are
    still closed.
    """
    from streamlit.runtime.scriptrunner import script_runner

    script_runner._clean_problem_modules = _close_pyplot_figures


def _close_pyplot_figures() -> None:
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
