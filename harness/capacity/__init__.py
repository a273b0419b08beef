"""`harness capacity`: the highest open-model arrival rate an architecture sustains within SLOs."""
