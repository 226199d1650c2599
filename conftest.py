"""Defaults for every pytest run in this repository (tests and executed notebooks alike).

Quick mode is on unless the caller says otherwise, and TensorFlow's start-up chatter is off; the
notebook kernels that nbval starts inherit both through the environment.
"""
import os

os.environ.setdefault("BDL_TF_QUICK", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
