"""MNIST digit-recognition studio: ``streamlit run app.py``.

This entry point sets up the page, the navigation and the sidebar; each page is a file in ``app_pages/``
that lays out widgets and calls :mod:`mnist_core`. An error a user can act on (:class:`MnistError`)
is shown as a short message, never as a traceback.

The folder is not called ``pages/`` on purpose: Streamlit treats a ``pages/`` folder as the old-style
multipage app until the entry point has run once, so a deep link such as ``/predict`` as the first
request after a restart would run that page on its own, without this file.
"""

import streamlit as st

import app_common
from mnist_core.errors import MnistError

st.set_page_config(page_title="MNIST studio", page_icon=":material/draw:", layout="wide")

page = st.navigation(
    [
        st.Page(info.path, title=info.title, icon=info.icon, default=info.name == "overview")
        for info in app_common.PAGES.values()
    ]
)
app_common.sidebar()
try:
    page.run()
except MnistError as error:
    st.error(str(error), icon=":material/error:")
finally:
    app_common.keep_reruns_fast()
