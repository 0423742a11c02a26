"""Keeping reruns fast once TensorFlow is loaded."""

from __future__ import annotations

import gc
import sys

import streamlit as st


def keep_reruns_fast() -> None:
    """Once TensorFlow is loaded, take every object alive now out of the garbage collector's sight.

    Importing TensorFlow adds about 330,000 objects the garbage collector tracks, and Streamlit runs
    a full garbage collection after every rerun: walking them made each rerun of every page 150-400 ms slower
    (measured by benchmarks/app_timing.py). ``gc.freeze()`` moves them to a generation that is
    never scanned; the app calls this after each page, so the first rerun that loads TensorFlow
    (the Predict page, or a training job's thread) is the last slow one.
    """
    if "tensorflow" in sys.modules:
        _freeze_loaded_objects()


@st.cache_resource(show_spinner=False)
def _freeze_loaded_objects() -> None:
    gc.freeze()
