"""What one architecture's run costs on AWS, from its recorded timeline and its profile.

Pure arithmetic on what the run recorded (the fleet's capacity samples, the requests
served) and the cited profile and price table (`harness.model.prices`). Each figure is a
`LineItem`: a quantity in AWS units, its unit price with source, and the subtotal, or
"not measurable: <why>" when the run did not record what the quantity needs; such a line
is never counted as 0, and the total says it leaves it out.

Converting the run back to AWS:

- time: the run compresses AWS time by its `time_scale`, so a run second stands for
  1 / time_scale AWS seconds (a 60 s load at 0.05 is a 20-minute event);
- size: every member runs at `cpu_factor` of its AWS size (the profile's typed
  `app.size`: `instance_type` or `vcpu` and `memory_gib`, and `cpu_factor`), so it serves
  cpu_factor of the traffic an AWS-sized member would.
  Traffic counts (requests, connections, bytes, AWS calls) stand for count /
  (cpu_factor x time_scale) on AWS: the rate 1 / cpu_factor higher, over 1 / time_scale
  the time.

The fleet billed each second is the larger of the desired count and the members
launching or in service (AWS bills a member from its launch until it is terminated: a
failed member is billed until the group replaces it, its replacement from its launch, so
a replaced member is billed throughout, one member). A fixed fleet (no capacity samples)
is billed at `app.instances`. Pre-scaling and scale-out added the fleet's cost above the
base fleet (`app.instances` every second).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from harness.analysis.scaling import CapacityPoint
from harness.model.database import AuroraSettings
from harness.model.prices import DB_VCPUS, PriceTable
from harness.model.profile import Profile

#: bytes in the GB AWS bills processed data by
GB = 2**30
#: one LCU / NLCU per hour: new connections per second, processed GB per hour (ELB pricing)
_CAPACITY_UNIT = {"alb": (25.0, 1.0), "nlb": (800.0, 1.0)}

#: how a line grows with the event's AWS duration (the forecast): in proportion, or by
#: whole hours (a load balancer's partial hour is billed as a full one)
Scales = Literal["hours", "whole_hours"]


@dataclass(frozen=True)
class LineItem:
    """One row of "how this was computed"."""

    item: str
    #: the price's name in the table (harness.model.prices)
    price: str
    unit: str
    unit_price_usd: float | None
    #: in AWS units (hours at AWS size and time); None: not measurable
    quantity: float | None
    subtotal_usd: float | None
    #: how the quantity follows from the run, or "not measurable: <why>"
    how: str
    source: str = ""
    read_on: str = ""
    overridden: bool = False
    price_note: str = ""
    scales: Scales = "hours"

    @property
    def measurable(self) -> bool:
        return self.subtotal_usd is not None


@dataclass(frozen=True)
class Traffic:
    """What the load balancer carried, per second of the run (seconds from the load's start)."""

    #: requests served successfully (class ok): the denominator of cost per million
    served: int
    #: new client connections by second; None: not recorded
    new_connections: Mapping[int, int] | None = None
    #: bytes through the load balancer (both ways) by second; None: not recorded
    bytes: Mapping[int, int] | None = None


@dataclass(frozen=True)
class ArchCost:
    """One architecture's event on AWS: line items, total, cost per million requests served."""

    region: str
    currency: str
    time_scale: float
    cpu_factor: float | None
    event_run_s: float
    event_aws_h: float
    lines: list[LineItem]
    #: the measurable lines' sum
    total_usd: float
    #: the lines the total leaves out (not measurable)
    unmeasured: list[str]
    served: int
    #: requests served, at AWS size and time: served / (cpu_factor x time_scale)
    served_aws: float | None
    #: total_usd per million of served_aws: a lower bound unless `complete`; None: none served
    per_million_usd: float | None
    base_members: int
    #: member-hours billed, of the base fleet, and billed while not in service
    member_hours: float | None
    base_member_hours: float | None
    not_serving_member_hours: float | None
    peak_members: int | None
    #: the fleet's cost above the base fleet's: pre-scaling and scale-out; None: unknown
    scaling_added_usd: float | None
    assumptions: list[str] = field(default_factory=list)
    #: set on a forecast: the AWS hours it was made for
    forecast_h: float | None = None

    @property
    def complete(self) -> bool:
        return not self.unmeasured


@dataclass(frozen=True)
class _Size:
    kind: Literal["ec2", "fargate"]
    instance_type: str = ""
    vcpu: float = 0.0
    gb: float = 0.0


def aws_size(profile: Profile) -> tuple[_Size | None, float, str]:
    """The AWS size a member stands for, the CPU factor, and why the size is unknown ("").

    From the profile's typed `app.size` (the model checks a Fargate size and that `cpus`
    is its vCPU x cpu_factor); without `cpu_factor`, the factor the profile scales the
    database's connections by (database.max_connections.scale: the same 0.15 both
    shipped profiles scale the fleet's CPU by).
    """
    size = profile.app.size
    factor = (size.cpu_factor if size.cpu_factor is not None
              else profile.database.max_connections.scale.value)
    if size.instance_type is not None:
        return _Size("ec2", instance_type=size.instance_type), factor, ""
    if size.vcpu is not None and size.memory_gib is not None:
        return _Size("fargate", vcpu=size.vcpu, gb=size.memory_gib), factor, ""
    return None, factor, ("the profile's app.size gives no typed AWS size: add instance_type "
                          "(EC2, e.g. t3.small) or vcpu and memory_gib (a Fargate task, e.g. "
                          "0.5 and 1), with cpu_factor")


@dataclass(frozen=True)
class Fleet:
    """Member-seconds of the run: billed, of the base fleet, billed while not in service."""

    billed_s: float
    base_s: float
    not_serving_s: float | None
    peak: int


@dataclass(frozen=True)
class FleetStretch:
    """A stretch of the run [start_s, end_s) over which the billed fleet held still."""

    start_s: float
    end_s: float
    #: members billed: the larger of desired and launching + in service
    members: int
    #: None: before the first capacity sample (the fleet the stack started with)
    in_service: int | None


def fleet_stretches(points: Sequence[CapacityPoint], run_s: float, base: int
                    ) -> list[FleetStretch]:
    """The billed fleet over [0, run_s), each sample holding until the next one."""
    if not points:
        return [FleetStretch(0.0, run_s, base, None)] if run_s > 0 else []
    ordered = sorted(points, key=lambda p: p.t_s)
    # before the first sample: the fleet the stack started with
    first = min(max(ordered[0].t_s, 0.0), run_s)
    out = [FleetStretch(0.0, first, base, None)] if first > 0 else []
    for i, p in enumerate(ordered):
        start = min(max(p.t_s, 0.0), run_s)
        end = min(max(ordered[i + 1].t_s, 0.0), run_s) if i + 1 < len(ordered) else run_s
        if end > start:
            out.append(FleetStretch(start, end, max(p.desired, p.launching + p.in_service),
                                    p.in_service))
    return out


def fleet_seconds(points: Sequence[CapacityPoint], run_s: float, base: int) -> Fleet:
    """Integrate the billed fleet over [0, run_s) (`fleet_stretches`)."""
    if not points:
        return Fleet(base * run_s, base * run_s, None, base)
    billed = not_serving = 0.0
    peak = base
    for f in fleet_stretches(points, run_s, base):
        billed += f.members * (f.end_s - f.start_s)
        if f.in_service is not None:
            peak = max(peak, f.members)
            not_serving += max(0, f.members - f.in_service) * (f.end_s - f.start_s)
    return Fleet(billed, base * run_s, not_serving, peak)


def event_cost(profile: Profile, prices: PriceTable, *, time_scale: float, run_s: float,
               fleet: Sequence[CapacityPoint], traffic: Traffic,
               aws_calls: Mapping[str, int] | None = None) -> ArchCost:
    """The event's cost on AWS for one architecture (see the module's docstring)."""
    size, factor, size_why = aws_size(profile)
    aws_s = run_s / time_scale
    hours = aws_s / 3600
    members = fleet_seconds(fleet, run_s, profile.app.instances)
    scale = factor * time_scale  # a count of the run -> the AWS count it stands for
    b = _Builder(prices, hours)

    # the app fleet
    member_h = members.billed_s / time_scale / 3600
    fleet_how = (f"{members.billed_s:g} member-seconds billed in the run (each second the "
                 f"larger of desired and launching + in service) / time_scale {time_scale:g}"
                 f" = {member_h:.4f} member-hours")
    fleet_lines: list[LineItem] = []
    if size is None:
        fleet_lines.append(b.unmeasured("app fleet", "ec2_instance_hour", size_why))
    elif size.kind == "ec2":
        fleet_lines.append(b.line(f"EC2 {size.instance_type} instance-hours",
                                  "ec2_instance_hour", member_h, fleet_how,
                                  size=size.instance_type))
    else:
        fleet_lines.append(b.line(f"Fargate vCPU-hours ({size.vcpu:g} vCPU a task)",
                                  "fargate_vcpu_hour", member_h * size.vcpu,
                                  f"{fleet_how} x {size.vcpu:g} vCPU"))
        fleet_lines.append(b.line(f"Fargate GB-hours ({size.gb:g} GB a task)",
                                  "fargate_gb_hour", member_h * size.gb,
                                  f"{fleet_how} x {size.gb:g} GB"))
    b.lines += fleet_lines

    _balancer(b, profile, traffic, scale, time_scale, run_s)
    _database(b, profile, hours)
    _aws_calls(b, profile, aws_calls, scale)

    total = round(sum(li.subtotal_usd or 0.0 for li in b.lines), 6)
    served_aws = traffic.served / scale
    # over the measurable lines: a lower bound while any is not measurable (`complete`)
    per_million = round(total / (served_aws / 1e6), 6) if served_aws else None
    fleet_usd = [li.subtotal_usd for li in fleet_lines]
    added = None
    if members.billed_s > 0 and all(u is not None for u in fleet_usd):
        share = (members.billed_s - members.base_s) / members.billed_s
        added = round(sum(u or 0.0 for u in fleet_usd) * share, 6)
    assumptions = [
        f"the run's {run_s:g} s at time_scale {time_scale:g} stand for {aws_s:g} s "
        f"({hours:.4f} h) of AWS time",
        f"members run at {factor:g} of their AWS size, so the run's traffic stands for "
        f"its count / ({factor:g} x {time_scale:g}) on AWS",
        "on-demand list prices; no free tier, Savings Plan or Reserved Instance deducted "
        "unless a price is overridden; storage, backups, data transfer, CloudWatch and "
        "public IPv4 addresses are not counted",
    ]
    return ArchCost(
        region=prices.region, currency=prices.currency, time_scale=time_scale,
        cpu_factor=factor, event_run_s=run_s, event_aws_h=round(hours, 6), lines=b.lines,
        total_usd=total, unmeasured=[li.item for li in b.lines if not li.measurable],
        served=traffic.served, served_aws=round(served_aws, 3),
        per_million_usd=per_million, base_members=profile.app.instances,
        member_hours=round(member_h, 6),
        base_member_hours=round(members.base_s / time_scale / 3600, 6),
        not_serving_member_hours=(None if members.not_serving_s is None else
                                  round(members.not_serving_s / time_scale / 3600, 6)),
        peak_members=members.peak, scaling_added_usd=added, assumptions=assumptions)


def forecast(cost: ArchCost, aws_hours: float) -> ArchCost:
    """The same line items for an event of `aws_hours` shaped like this one: an estimate.

    Every line grows in proportion to the hours (the rehearsal's fleet, traffic and AWS
    calls per hour held for the whole event), a load balancer's hours by whole hours; a
    line the rehearsal could not measure stays not measurable. The assumptions say so.
    """
    if cost.event_aws_h <= 0:
        raise ValueError("the rehearsal measured no time to forecast from")
    if not math.isfinite(aws_hours) or aws_hours <= 0:
        raise ValueError(f"a forecast needs a positive number of hours, not {aws_hours}")
    ratio = aws_hours / cost.event_aws_h
    lines = []
    for li in cost.lines:
        if li.quantity is None or li.unit_price_usd is None:
            lines.append(li)
            continue
        if li.scales == "whole_hours":
            quantity = float(max(1, math.ceil(aws_hours)))
            how = f"{aws_hours:g} h, each partial hour billed as a full one"
        else:
            quantity = li.quantity * ratio
            how = f"{li.quantity:.4f} in {cost.event_aws_h:.4f} h, x {ratio:.4g}"
        lines.append(replace(li, quantity=round(quantity, 6), how=how,
                             subtotal_usd=round(quantity * li.unit_price_usd, 6)))
    total = round(sum(li.subtotal_usd or 0.0 for li in lines), 6)
    served = None if cost.served_aws is None else cost.served_aws * ratio
    # not the rehearsal's: the whole-hour lines do not grow in proportion to the requests
    per_million = round(total / (served / 1e6), 6) if served else None
    added = None if cost.scaling_added_usd is None else round(cost.scaling_added_usd * ratio, 6)
    return replace(
        cost, lines=lines, total_usd=total, event_aws_h=round(aws_hours, 6),
        served_aws=None if served is None else round(served, 3), per_million_usd=per_million,
        member_hours=_times(cost.member_hours, ratio),
        base_member_hours=_times(cost.base_member_hours, ratio),
        not_serving_member_hours=_times(cost.not_serving_member_hours, ratio),
        scaling_added_usd=added, forecast_h=aws_hours,
        assumptions=[*_forecast_assumptions(cost, aws_hours, ratio), *cost.assumptions])


def _forecast_assumptions(cost: ArchCost, aws_hours: float, ratio: float) -> list[str]:
    """What the forecast holds constant, what grows how, and what it cannot say."""
    def items(scales: Scales) -> str:
        return ", ".join(li.item for li in cost.lines if li.measurable and li.scales == scales)

    out = [f"an estimate, not a measurement: the rehearsal's {cost.event_aws_h:.4g} AWS hours "
           f"repeated {ratio:.4g} times over {aws_hours:g} h, with its fleet (base, "
           "pre-scaled, scaled out, replaced), traffic and AWS calls per hour unchanged; "
           "its one-off moments (warm-up, faults, a scale-out and its way back, a "
           "replacement) recur in every repetition; a longer sale's own shape (a second "
           "peak, a quiet night, a fleet left scaled out) is not known to it"]
    if proportional := items("hours"):
        out.append(f"in proportion to the hours: {proportional}")
    if whole := items("whole_hours"):
        out.append(f"by whole hours, not in proportion: {whole} (each partial hour billed as "
                   "a full one, so the cost per million requests differs from the "
                   "rehearsal's)")
    if cost.unmeasured:
        out.append("still not measurable and left out of the estimate: "
                   + ", ".join(cost.unmeasured))
    return out


def _times(value: float | None, ratio: float) -> float | None:
    return None if value is None else round(value * ratio, 6)


class _Builder:
    """Line items priced from one table."""

    def __init__(self, prices: PriceTable, hours: float) -> None:
        self.prices = prices
        self.hours = hours
        self.lines: list[LineItem] = []

    def line(self, item: str, name: str, quantity: float, how: str, *, size: str | None = None,
             scales: Scales = "hours") -> LineItem:
        price = self.prices.price(name, size)
        if price is None:
            known = ", ".join(self.prices.sizes(name)) or "none"
            return self.unmeasured(item, name, f"the price table has no {name} for {size} "
                                   f"(it has: {known}); override prices.{name} in the scenario")
        return LineItem(item, name, price.unit, price.value, round(quantity, 6),
                        round(quantity * price.value, 6), how, price.source, price.read_on,
                        price.overridden, price.note, scales)

    def unmeasured(self, item: str, name: str, why: str) -> LineItem:
        price = self.prices.price(name)
        return LineItem(item, name, price.unit if price else "",
                        price.value if price else None, None, None, f"not measurable: {why}",
                        price.source if price else "", price.read_on if price else "",
                        price.overridden if price else False, price.note if price else "")

    def started_hours(self, item: str, name: str) -> None:
        billed = float(max(1, math.ceil(self.hours - 1e-9)))
        self.lines.append(self.line(item, name, billed, f"{self.hours:.4f} h of AWS time; each "
                                    "partial hour is billed as a full hour",
                                    scales="whole_hours"))


def _balancer(b: _Builder, profile: Profile, traffic: Traffic, scale: float,
              time_scale: float, run_s: float) -> None:
    style = profile.load_balancer.style
    b.started_hours(f"{style.upper()} hours", f"{style}_hour")
    if style == "clb":
        if traffic.bytes is None:
            b.lines.append(b.unmeasured("CLB data processed", "clb_gb",
                                        "the run does not record the bytes through the "
                                        "load balancer"))
            return
        gb = sum(traffic.bytes.values()) / scale / GB
        b.lines.append(b.line("CLB data processed", "clb_gb", gb,
                              f"{sum(traffic.bytes.values())} bytes in the run / "
                              f"({scale:g}) = {gb:.4f} GB"))
        return
    unit = "LCU" if style == "alb" else "NLCU"
    name = f"{style}_{unit.lower()}_hour"
    missing = [what for what, got in (("new connections", traffic.new_connections),
                                      ("processed bytes", traffic.bytes)) if got is None]
    if missing:
        rules = (" (rule evaluations, from its requests, are within the 10 free rules a "
                 "request with the default rule alone: no LCU)" if style == "alb" else "")
        b.lines.append(b.unmeasured(
            f"{unit}-hours", name, f"an hour is charged its largest {unit} dimension; the run "
            f"records its requests{rules} but not its {' or '.join(missing) or 'size'}"))
        return
    assert traffic.new_connections is not None
    assert traffic.bytes is not None
    per_s, per_gb = _CAPACITY_UNIT[style]
    units = 0.0
    hour_run_s = 3600 * time_scale
    for start in range(math.ceil(run_s / hour_run_s)):
        lo, hi = start * hour_run_s, (start + 1) * hour_run_s
        new = sum(v for s, v in traffic.new_connections.items() if lo <= s < hi) / scale
        gb = sum(v for s, v in traffic.bytes.items() if lo <= s < hi) / scale / GB
        units += max(new / 3600 / per_s, gb / per_gb)
    b.lines.append(b.line(
        f"{unit}-hours", name, units,
        f"each AWS hour: the larger of new connections / ({per_s:g}/s x 3600) and GB / "
        f"{per_gb:g} (active connections are not recorded: a lower bound when they are the "
        f"largest), the run's counts / {scale:g}"))


def _database(b: _Builder, profile: Profile, hours: float) -> None:
    db = profile.database
    cls = db.instance_class.value
    if isinstance(db, AuroraSettings):
        count = 1 + int(profile.has_reader)
        b.lines.append(b.line(f"Aurora {cls} instance-hours ({count} instances)",
                              "aurora_instance_hour", hours * count,
                              f"{count} x {hours:.4f} h: writer and reader for the whole "
                              "event (a failover restarts them, it stops no billing)", size=cls))
        b.lines.append(b.unmeasured("Aurora I/O requests", "aurora_io_million",
                                    "the run does not record the database's I/O operations "
                                    "(MariaDB's counters here are not Aurora storage I/Os)"))
        if profile.proxy is not None:
            per = DB_VCPUS.get(cls)
            if per is None:
                b.lines.append(b.unmeasured("RDS Proxy vCPU-hours", "rds_proxy_vcpu_hour",
                                            f"the vCPUs of {cls} are not known here"))
            else:
                vcpus = max(2, per * count)
                b.lines.append(b.line("RDS Proxy vCPU-hours", "rds_proxy_vcpu_hour",
                                      vcpus * hours, f"{vcpus} vCPUs ({count} x {cls}, at "
                                      f"least 2) x {hours:.4f} h"))
        return
    multi_az = profile.has_standby
    name = "rds_multi_az_instance_hour" if multi_az else "rds_instance_hour"
    kind = "Multi-AZ " if multi_az else ""
    b.lines.append(b.line(f"RDS {kind}{cls} instance-hours", name, hours,
                          f"{hours:.4f} h: the {'primary and standby' if multi_az else 'instance'}"
                          " for the whole event", size=cls))


def _aws_calls(b: _Builder, profile: Profile, calls: Mapping[str, int] | None,
               scale: float) -> None:
    services = [("sqs", "SQS requests", "sqs_million", 1e6)]
    if profile.aws.bucket:
        services.append(("s3", "S3 PUT requests (receipts)", "s3_put_thousand", 1e3))
    for key, item, name, per in services:
        if calls is None or key not in calls:
            b.lines.append(b.unmeasured(item, name, "the AWS fault point counts the services' "
                                        "SQS and S3 calls live, but the run does not record "
                                        "them"))
            continue
        aws = calls[key] / scale
        b.lines.append(b.line(item, name, aws / per,
                              f"{calls[key]} calls in the run / {scale:g} = {aws:.0f}"))
