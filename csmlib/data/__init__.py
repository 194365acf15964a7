"""Layer 1, data: instruments (codebooks), file readers, the cleaned
:class:`~csmlib.data.survey.Survey`, personal-data detection and the bundled
datasets.  Imports only :mod:`csmlib.errors`, :mod:`csmlib.atomic` and :mod:`csmlib.bundled`."""
