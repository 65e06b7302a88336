"""Rendering: what people read, made from analysis results and nothing else.

:mod:`~iomonitor.render.units` holds the one way each number or name is
written for people (bytes, durations, names).
"""
