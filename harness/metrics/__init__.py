"""The run's metrics, as CloudWatch would have them: sampled, stored, aggregated into periods.

- `samples`: the recorded sample (the contract between the collector and analysis) and
  `metrics.jsonl`, its file in the results folder;
- `catalogue`: which metrics exist, their units, and the CloudWatch names each era used;
- `periods`: pure aggregation of samples into CloudWatch periods with a publication delay;
- `collector`: the thread that samples a running stack once a second.
"""
