"""The course as code: the syllabus and the notebook runner (``python -m course run``)."""
