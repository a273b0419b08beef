"""Auto scaling as AWS does it: target tracking on CloudWatch-like metric periods,
scheduled actions, and the fleet changes that follow (launch, register, drain, stop)."""
