"""CloudWatch's side of a run: recorded samples aggregated into periods, and alarms on them.

Used live (the collector in harness.stacks.collector runs the alarms each tick; the
scaling policy reads the same periods); the samples themselves are harness.records.samples
and the metric and alarm definitions harness.model.catalogue and harness.model.alarmdef.

- `periods`: pure aggregation of samples into CloudWatch periods with a publication delay;
- `alarms`: alarm evaluation over those periods (M of N datapoints, missing data).
"""
