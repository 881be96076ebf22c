"""Closed-model vendors and their events: the article's vendor-dependency force.

"Closed model providers retain the right to change pricing, deprecate model versions, alter
acceptable-use policies, and in extreme cases withdraw access entirely." Each quarter every vendor
may draw each kind of event (per-quarter hazards), and the scenario may schedule events. An event

* hits the vendor's customers it reaches (all of them in one region for a withdrawal; for a
  deprecation only those using the retired model): a perceived-risk shock, a forced review of
  their stack when the event type forces one, and part of the migration cost of moving
  their workloads waived (they must re-engineer anyway);
* raises perceived vendor risk for everyone else by a smaller ``spillover`` share;
* a price change multiplies the vendor's price (relative to the market's tier prices, which
  stays within 1/``MAX_PRICE_MOVE``..``MAX_PRICE_MOVE``: a move beyond is folded back, in log
  scale, :func:`relative_price`); a withdrawal removes the vendor from a region and
  its customers there move to another vendor (not in a region where it is the last vendor).

Perceived risk decays geometrically (``risk_decay`` per quarter). Draws come from the
``vendor_events`` stream in fixed-size blocks each quarter, so they do not depend on the state.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.core.paths import fold
from sim.core.quarters import parse_quarter
from sim.core.schema import EVENT_TYPES, MAX_PRICE_MOVE, REGIONS, Scenario

ALL_REGIONS = -1


def relative_price(multiplier: float) -> float:
    """A vendor's price relative to the market's after a move took it to ``multiplier``:
    unchanged within 1/MAX_PRICE_MOVE..MAX_PRICE_MOVE, folded back at the bounds in log scale
    beyond (a move that would take it 2x past a bound leaves it 2x inside), so however many
    moves a run brings, the price stays finite."""
    low = 1.0 / MAX_PRICE_MOVE
    if low <= multiplier <= MAX_PRICE_MOVE:
        return multiplier
    bound = np.log(MAX_PRICE_MOVE)
    folded = np.exp(fold(np.array([np.log(multiplier)]), -bound, bound))
    return float(np.clip(folded[0], low, MAX_PRICE_MOVE))   # rounding only


@dataclass
class VendorEvent:
    vendor: int
    type: str
    region: int = ALL_REGIONS
    price_multiplier: float = 1.0


@dataclass
class QuarterEvents:
    """What this quarter's events did to the enterprises."""

    events: list[VendorEvent] = field(default_factory=list)
    forced_review: np.ndarray | None = None       # bool per enterprise
    migration_relief: np.ndarray | None = None    # share of migration cost waived per enterprise


class VendorMarket:
    """Vendor prices, availability by region, and every enterprise's perceived vendor risk."""

    def __init__(self, scenario: Scenario, customer_vendor: np.ndarray, region: np.ndarray,
                 rng: np.random.Generator):
        self.names = tuple(scenario.vendors)
        self.effects = scenario.vendor_events
        self.market_share = np.array([v.market_share for v in scenario.vendors.values()])
        self.hazards = np.array([[getattr(v.hazards, kind) for kind in EVENT_TYPES]
                                 for v in scenario.vendors.values()])
        start = parse_quarter(scenario.horizon.start)
        self.scheduled: dict[int, list[VendorEvent]] = {}
        for event in scenario.scheduled_events:
            self.scheduled.setdefault(parse_quarter(event.quarter) - start, []).append(VendorEvent(
                vendor=self.names.index(event.vendor), type=event.type,
                region=ALL_REGIONS if event.region == "all" else REGIONS.index(event.region),
                price_multiplier=event.price_multiplier or 1.0))
        self.customer_vendor = customer_vendor
        self.region = region
        self.rng = rng
        self.price_multiplier = np.ones(len(self.names))
        self.available = np.ones((len(self.names), len(REGIONS)), dtype=bool)
        self.perceived_risk = np.zeros(customer_vendor.size)

    def closed_price_multiplier(self) -> np.ndarray:
        """Each enterprise's current price multiplier from its vendor's price moves: its
        vendor's price relative to the market's tier prices (the signals)."""
        return self.price_multiplier[self.customer_vendor]

    def _random_events(self) -> list[VendorEvent]:
        occurs = self.rng.random(self.hazards.shape) < self.hazards
        magnitude = self.rng.random(len(self.names))
        region = self.rng.integers(0, len(REGIONS), len(self.names))
        low = self.effects.price_change.multiplier_low
        high = self.effects.price_change.multiplier_high
        multiplier = np.exp(np.log(low) + (np.log(high) - np.log(low)) * magnitude)
        events = []
        for vendor, kind in zip(*np.nonzero(occurs)):
            kind = EVENT_TYPES[kind]
            events.append(VendorEvent(
                vendor=int(vendor), type=kind,
                region=int(region[vendor]) if kind == "withdrawal" else ALL_REGIONS,
                price_multiplier=float(multiplier[vendor]) if kind == "price_change" else 1.0))
        return events

    def _hit(self, event: VendorEvent, reach: float, reach_draw: np.ndarray) -> np.ndarray:
        customers = (self.customer_vendor == event.vendor) & (reach_draw < reach)
        if event.region != ALL_REGIONS:
            customers &= self.region == event.region
        return customers

    def _withdraw(
        self, event: VendorEvent, customers: np.ndarray, uniforms: np.ndarray
    ) -> np.ndarray:
        """Remove the vendor from the event's region(s) and move its customers there to another
        vendor available in their region, by market share (equally if none of them has a
        share). A region where it is the last vendor keeps it. Returns the customers that
        moved."""
        regions = range(len(REGIONS)) if event.region == ALL_REGIONS else [event.region]
        moved = np.zeros_like(customers)
        for region in regions:
            remaining = self.available[:, region].copy()
            remaining[event.vendor] = False
            if not remaining.any():
                continue
            self.available[event.vendor, region] = False
            here = customers & (self.region == region)
            shares = np.where(remaining, self.market_share, 0.0)
            if shares.sum() == 0:   # the vendors left have no market share: equally
                shares = remaining.astype(float)
            cumulative = np.cumsum(shares / shares.sum())
            self.customer_vendor[here] = np.minimum(
                np.searchsorted(cumulative, uniforms[here], side="right"), len(self.names) - 1)
            moved |= here
        return moved

    def step(self, quarter: int, draw_random: bool = True) -> QuarterEvents:
        """Decay perceived risk, draw this quarter's events and apply them.

        ``draw_random`` is False during the burn-in, when the world is held at its start.
        """
        self.perceived_risk *= self.effects.risk_decay
        random_events = self._random_events()
        reassignment = self.rng.random(self.customer_vendor.size)
        reach_draw = self.rng.random(self.customer_vendor.size)
        events = (random_events if draw_random else []) + self.scheduled.get(quarter, [])
        forced = np.zeros(self.customer_vendor.size, dtype=bool)
        relief = np.zeros(self.customer_vendor.size)
        applied = []
        for event in events:
            effect = getattr(self.effects, event.type)
            customers = self._hit(event, effect.reach, reach_draw)
            if event.type == "withdrawal":
                customers = self._withdraw(event, customers, reassignment)
                if not customers.any():
                    continue
            if event.type == "price_change":
                self.price_multiplier[event.vendor] = relative_price(
                    self.price_multiplier[event.vendor] * event.price_multiplier)
            self.perceived_risk += np.where(customers, effect.severity,
                                            effect.severity * self.effects.spillover)
            if effect.forced_review:
                forced |= customers
            relief = np.where(customers, np.maximum(relief, effect.migration_relief), relief)
            applied.append(event)
        return QuarterEvents(events=applied, forced_review=forced, migration_relief=relief)
