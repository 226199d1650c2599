"""Instructor grading: the answer key (``answer_key``), and grading a folder of submitted notebooks."""
