"""The cited-settings schema every layer reads: stack profiles, alarms, metrics, scaling.

A leaf: it imports nothing of the harness but `errors` and `yamlfile`, so the scenario,
the live stack, analysis and the report all read the same models without importing
each other (ARCHITECTURE.md).

- `cited`: `Cited`, `Timing` and the "what this run modelled" rows they give;
- `balancer`, `app`, `database` (+ `dbclass`), `orchestrator`, `deploy`, `monitoring`,
  `scaling`: one profile section each; `profile`: the whole profile;
- `alarmdef`, `catalogue`: an alarm as a run evaluates it, and the metrics it may name;
- `profile_file`: finding and reading profile files (`extends:`, a scenario's overrides).
- `components`: the components and edges a profile's stack has, declared once for the
  stack, docker-compose.yml and fault validation.
"""
