"""Money and tokens: what a workload costs on each deployment, in US dollars per quarter.

The article's central claim is about total cost of ownership: self-hosting open weights costs
less per token at high volume, but only once the fixed costs of running models (hardware that
sits idle, the engineers who keep it running) are covered, so the break-even shifts as prices,
hardware and tooling move. The pieces, each a pure function of arrays or scalars (the reference
path and the kernel call the same functions, so both compute the same dollars):

* :func:`token_volume`: a workload's tokens grow with the token demand index (longer prompts,
  reasoning, agents), each class at its own elasticity;
* :func:`closed_price_paid`: what a closed API charges for the capability a workload needs:
  routine work (frontier need 0) pays the price of a fixed capability, which collapsed in
  2024-2025; work needing the frontier (need 1) pays the frontier tier's list price, which
  barely moved; in between, a geometric mix of the two;
* :func:`open_model`: the open model a workload's need calls for, between a small and a large
  one: how many tokens a GPU serves an hour, and the smallest deployment;
* :func:`serving_cost`: GPU rent for the hours a workload's tokens take at the target
  utilisation, but never less than its model's minimum deployment (what makes low volume
  uneconomic), or, where cheaper, the per-token price of a provider serving the same open
  weights (serverless: no minimum, a markup over the GPU time the tokens take);
* :func:`staff_cost`: engineers, a fraction of them removed by in-house ML capacity and tooling
  (:func:`sim.core.kernel.burden_factor`);
* :func:`break_even_volume`: the volume at which self-hosting a workload costs what the API does.
"""

from __future__ import annotations

import numpy as np

HOURS_PER_QUARTER = 24.0 * 365.25 / 4.0
MONTHS_PER_QUARTER = 3.0


def token_volume(base_volume, demand_elasticity, token_demand):
    """Millions of tokens a workload uses this quarter: its volume at the horizon start times the
    token demand index raised to its class's elasticity."""
    return base_volume * np.power(token_demand, demand_elasticity)


def closed_price_paid(frontier_need, fixed_capability_price, frontier_price):
    """USD per million tokens a closed API charges a workload before its vendor's own price
    moves: ``fixed_capability_price ** (1 - need) * frontier_price ** need``, written as the
    fixed-capability price times the frontier's premium raised to the need."""
    return fixed_capability_price * np.power(frontier_price / fixed_capability_price,
                                             frontier_need)


def adopted_price_path(market_price: np.ndarray, adoption_rate: float) -> np.ndarray:
    """The fixed-capability price routine work pays, quarter by quarter (the first axis), when
    enterprises move to a cheaper closed tier of the same capability only gradually: each quarter
    they close ``adoption_rate`` of the gap, on a log scale, between the price they pay and the
    market's (re-validating prompts and evaluations, procurement). 1 follows the market at once;
    the path starts at the market's first price."""
    log_market = np.log(market_price)
    paid = np.empty_like(log_market)
    paid[0] = log_market[0]
    for quarter in range(1, len(paid)):
        paid[quarter] = paid[quarter - 1] + adoption_rate * (log_market[quarter]
                                                             - paid[quarter - 1])
    return np.exp(paid)


def open_model(frontier_need, economics) -> tuple:
    """(throughput in millions of tokens per GPU-hour at full load with 2024Q1 hardware and
    software, minimum GPUs) of the open model a workload's frontier need calls for: the small
    model's at need 0, the large model's at need 1, log-linear in between."""
    small, large = economics.small_model, economics.large_model
    throughput = small.throughput_mtok_per_gpu_hour * np.power(
        large.throughput_mtok_per_gpu_hour / small.throughput_mtok_per_gpu_hour, frontier_need)
    minimum_gpus = small.minimum_gpus * np.power(large.minimum_gpus / small.minimum_gpus,
                                                 frontier_need)
    return throughput, minimum_gpus


def utilisation(tooling_maturity, economics):
    """Share of provisioned GPU time a deployment keeps busy: rises with tooling maturity
    (batching, autoscaling) from the floor to the ceiling."""
    return (economics.utilisation_floor
            + (economics.utilisation_ceiling - economics.utilisation_floor) * tooling_maturity)


def gpu_hours(volume, throughput, minimum_gpus, serving_efficiency, busy_share):
    """GPU-hours a quarter of ``volume`` million tokens rents: those its tokens take at the
    busy share, never fewer than the minimum deployment running the whole quarter."""
    needed = volume / (throughput * serving_efficiency * busy_share)
    return np.maximum(minimum_gpus * HOURS_PER_QUARTER, needed)


def serverless_price(throughput, serving_efficiency, gpu_rent, serverless_factor):
    """USD per million tokens a provider charges to serve the open model: the GPU rent its
    tokens take at full load times ``serverless_factor`` (the provider's idle time and margin)."""
    return gpu_rent / (throughput * serving_efficiency) * serverless_factor


def serving_cost(volume, throughput, minimum_gpus, serving_efficiency, busy_share, gpu_rent,
                 serverless_factor):
    """USD per quarter of serving a self-run open workload: rented GPUs of its own
    (:func:`gpu_hours` times rent) or a serverless provider's per-token price, whichever costs
    less."""
    dedicated = gpu_hours(volume, throughput, minimum_gpus, serving_efficiency,
                          busy_share) * gpu_rent
    serverless = volume * serverless_price(throughput, serving_efficiency, gpu_rent,
                                           serverless_factor)
    return np.minimum(dedicated, serverless)


def staff_cost(fte, salary_usd_per_year, burden):
    """USD per quarter of ``fte`` engineers of whom the share ``burden`` is still needed."""
    return fte * burden * (salary_usd_per_year / 4.0)


def break_even_volume(price_paid, throughput, minimum_gpus, serving_efficiency, busy_share,
                      gpu_rent, serverless_factor, fixed_usd):
    """Millions of tokens per quarter above which running a workload on open weights costs less
    than the API, in money alone (capability, risk and compliance aside); ``inf`` where it never
    does. Works on arrays.

    The API costs ``volume * price_paid``; open weights cost ``fixed_usd`` (the engineers, and
    the platform's when counted) plus :func:`serving_cost`, the cheaper of two curves: rented
    GPUs, flat at the minimum deployment up to the volume it serves and then ``gpu_rent /
    served`` per million tokens, and a serverless price per token. The API line crosses their
    minimum where it first crosses either, so the break-even is the smaller crossing."""
    served = throughput * serving_efficiency * busy_share           # Mtok per rented GPU-hour
    floor_volume = minimum_gpus * HOURS_PER_QUARTER * served         # the minimum deployment's
    floor_cost = minimum_gpus * HOURS_PER_QUARTER * gpu_rent + fixed_usd
    within_floor = floor_cost / price_paid
    with np.errstate(divide="ignore", invalid="ignore"):
        beyond_floor = _crossing(fixed_usd, price_paid - gpu_rent / served)
        serverless = _crossing(fixed_usd, price_paid - serverless_price(
            throughput, serving_efficiency, gpu_rent, serverless_factor))
    dedicated = np.where(within_floor <= floor_volume, within_floor, beyond_floor)
    return np.minimum(dedicated, serverless)


def _crossing(fixed_usd, margin):
    """Where ``volume * margin`` first covers ``fixed_usd``: inf without a positive margin."""
    return np.where(margin > 0, fixed_usd / margin, np.inf)


def workload_break_even(frontier_need, context, economics):
    """Per enterprise, the break-even volume (:func:`break_even_volume`, millions of tokens per
    quarter) of a workload of ``frontier_need`` under ``context``
    (:class:`sim.core.kernel.QuarterContext`): the price its tier charges the enterprise, the
    open model it needs, the engineers the enterprise would put on it (its platform aside)."""
    signals = context.signals
    throughput, minimum_gpus = open_model(frontier_need, economics)
    price_paid = closed_price_paid(frontier_need, signals.fixed_capability_price_usd_per_mtok,
                                   signals.frontier_price_usd_per_mtok)
    return break_even_volume(price_paid * context.price_multiplier, throughput, minimum_gpus,
                             signals.serving_efficiency_index, context.busy_share,
                             signals.gpu_rent_usd_per_hour, economics.serverless_price_factor,
                             context.workload_staff_usd)
