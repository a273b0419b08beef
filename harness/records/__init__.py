"""What a run records, and reading it back: the contract between the live side and analysis.

The load generator and the metrics collector write through these modules; analysis
and the report read through them, so nothing after a run imports the generator.

- `classify`: the class of every request (ok, or the kind of error);
- `recorder`: per second x endpoint x class latency histograms and arrival counts;
- `samples`: one metric sample and `metrics.jsonl`.
- `events`: every kind of event in `events.jsonl`, by the source that writes it;
- `marker`: a results folder's `INCOMPLETE` marker, and atomic writes.
"""
