"""MNIST digit-recognition studio: ``streamlit run app.py``.

This entry point sets up the page, the navigation and the sidebar; each page is a file in ``pages/``
that lays out widgets and calls :mod:`mnist_core`. An error a user can act on (:class:`MnistError`)
is shown as a short message, never as a traceback. Every page starts with
``app_common.run_inside_app()``, so that a deep link as the first request after a restart still runs
through this file (see :mod:`app_common.navigation` for why).
"""

import streamlit as st

import app_common
from mnist_core.errors import MnistError

st.set_page_config(page_title="MNIST studio", page_icon=":material/draw:", layout="wide")

page = st.navigation(app_common.navigation_pages())
app_common.sidebar()
try:
    with app_common.running_page():
        page.run()
except MnistError as error:
    st.error(str(error), icon=":material/error:")
finally:
    app_common.keep_reruns_fast()
