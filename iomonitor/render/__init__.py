"""Rendering: what people read, made from analysis results and nothing else.

:mod:`~iomonitor.render.units` holds the one way each number or name is
written for people (bytes, durations, counts, names); :mod:`~iomonitor.render.tables`
lays out the tables of ``stats`` and ``diff`` as text, markdown, CSV or JSON.
The figures are :mod:`iomonitor.plot`; :mod:`~iomonitor.render.report` writes the HTML
page of a trace.
"""
