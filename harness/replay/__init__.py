"""`harness replay`: access logs (ALB, Classic LB, combined) into a scenario that replays them."""
