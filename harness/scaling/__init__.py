"""Auto scaling's decisions: target tracking on CloudWatch-like metric periods (`policy`)
and how far ahead a scheduled action must run (`lead`). The settings and scheduled
actions are harness.model.scaling; the fleet changes that follow (launch, register,
drain, stop) are harness.stacks.orchestrators.scaling."""
