"""Defaults for every pytest run in this repository (tests and executed notebooks alike).

Quick mode is on unless the caller says otherwise, TensorFlow's start-up chatter is off, and the
notebooks' sliders show only their static figures (no widget front end here: nbclient can hang on
widget messages, jupyter/nbclient#312); the kernels that nbval starts inherit all three.
"""
import os

os.environ.setdefault("BDL_TF_QUICK", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("BDL_TF_HEADLESS", "1")
