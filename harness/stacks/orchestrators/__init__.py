"""The stack's own reactions to failures, as AWS would react: ECS, ASG, Aurora/RDS failover."""
