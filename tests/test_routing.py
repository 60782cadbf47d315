"""Route planning: capacity and time windows hold, every order is served, both solvers agree
on feasibility, CVRPLIB files are read with the right distance convention."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tools.registry import ToolContext, call_tool
from tools.routing import (
    PlanRoutesRequest,
    VrpSolution,
    check_solution,
    delivery_instance,
    haversine_matrix,
    plan_delivery_routes,
    read_cvrplib,
    read_cvrplib_solution,
    solve_ortools,
    solve_pyvrp,
)
from tools.store import Store

# The CVRPLIB instances are not copied into the repository: they sit in ../shared/data/cvrplib
# beside the checkout (as CI has it); STOCKPILOT_CVRPLIB points elsewhere.
ROOT = Path(__file__).resolve().parents[1]
CVRPLIB = Path(os.environ.get("STOCKPILOT_CVRPLIB") or ROOT.parent / "shared" / "data" / "cvrplib")
DAY = "2026-11-30"


def _orders(n: int = 14) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    rows = []
    for i in range(n):
        timed = i % 2 == 0
        start = 8 * 60 + 60 * (i % 5) if timed else None
        rows.append(
            {
                "order_id": f"O-{i + 1:03d}",
                "order_date": "2026-11-28",
                "delivery_date": DAY,
                "location_id": "BER",
                "customer_id": f"C-{i + 1:03d}",
                "lat": 52.52 + rng.uniform(-0.12, 0.12),
                "lon": 13.40 + rng.uniform(-0.2, 0.2),
                "weight_kg": float(20 + 5 * (i % 7)),
                "volume_m3": 0.1,
                "tw_start_min": start,
                "tw_end_min": start + 90 if timed else None,
            }
        )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def routing_store():
    store = Store(":memory:")
    store.con.execute("INSERT INTO meta VALUES ('today', ?)", [DAY])
    store.con.execute(
        "INSERT INTO locations VALUES ('BER', 'Berlin DC', 'Berlin', 'dc', 52.52, 13.40),"
        " ('HAM', 'Hamburg DC', 'Hamburg', 'dc', 53.55, 10.0)"
    )
    orders = _orders()
    store.con.register("o", orders)
    store.con.execute(
        "INSERT INTO customer_orders SELECT order_id, order_date::DATE, delivery_date::DATE, location_id,"
        " customer_id, lat, lon, weight_kg, volume_m3, tw_start_min::INT, tw_end_min::INT FROM o"
    )
    yield store
    store.close()


def _assert_feasible(plan, orders: pd.DataFrame, capacity: float):
    served = [s.order_id for r in plan.routes for s in r.stops]
    assert sorted(served) == sorted(orders.order_id) and not plan.unserved
    for route in plan.routes:
        assert route.load_kg <= capacity
        for stop in route.stops:
            if stop.window:
                start, end = stop.window.split("-")
                assert start <= stop.arrival <= end, (stop.order_id, stop.arrival, stop.window)
            assert "06:00" <= stop.arrival <= "20:00"


@pytest.mark.parametrize("solver", ["pyvrp", "ortools"])
def test_routes_respect_capacity_and_time_windows_and_serve_every_order(routing_store, solver):
    req = PlanRoutesRequest(location="berlin", capacity_kg=150)
    plan = plan_delivery_routes(ToolContext(routing_store), req, solver=solver, time_limit_s=0.3)
    orders = routing_store.deliveries(pd.Timestamp(DAY).date(), "BER")
    _assert_feasible(plan, orders, 150)
    assert plan.solver == solver and plan.vehicles_used >= 4  # 560 kg in 150 kg vans
    assert plan.total_load_kg == pytest.approx(orders.weight_kg.sum())
    assert plan.total_distance_km == pytest.approx(
        sum(r.distance_km for r in plan.routes), abs=0.05
    )
    text = plan.render()
    assert "Routes BER 2026-11-30" in text and "O-001@" in text and "Unserved: none" in text


def test_independent_checker_accepts_both_solvers_on_the_same_instance(routing_store):
    orders = routing_store.deliveries(pd.Timestamp(DAY).date(), "BER")
    depot = routing_store.location("BER")
    instance = delivery_instance(depot, orders, capacity_kg=150, vehicles=6)
    for solve in (solve_pyvrp, solve_ortools):
        solution = solve(instance, 0.3)
        assert check_solution(instance, solution) == [] and not solution.unserved


def test_plan_routes_defaults_to_today_and_busiest_location(routing_store):
    run = call_tool(ToolContext(routing_store), "plan_routes", {})
    assert run.ok, run.error
    assert run.result.location_id == "BER" and run.result.date.isoformat() == DAY
    assert run.result.capacity_kg == 1000 and run.result.vehicles_used <= 2


def test_too_few_vehicles_reports_unserved_orders(routing_store):
    req = PlanRoutesRequest(location="BER", vehicles=1, capacity_kg=100)
    plan = plan_delivery_routes(ToolContext(routing_store), req, time_limit_s=0.2)
    assert plan.unserved and plan.vehicles_used == 1 and plan.routes[0].load_kg <= 100
    assert "Unserved: O-" in plan.render()


@pytest.mark.parametrize(
    ("arguments", "argument"),
    [
        ({"location": "Atlantis"}, "location"),
        ({"date": "next eon"}, "date"),
        ({"date": "2026-12-25"}, "date"),
        ({"location": "HAM"}, "date"),
        ({"capacity_kg": 10}, "capacity_kg"),
        ({"vehicles": 0}, "vehicles"),
    ],
)
def test_invalid_arguments_name_the_argument(routing_store, arguments, argument):
    run = call_tool(ToolContext(routing_store), "plan_routes", arguments)
    assert not run.ok and argument in run.error


def test_haversine_matrix_in_metres():
    d = haversine_matrix(np.array([52.52, 48.137]), np.array([13.405, 11.575]))
    assert d.dtype == np.int64 and d[0, 1] == d[1, 0] and 504_000 < d[0, 1] < 505_000


@pytest.mark.skipif(not CVRPLIB.exists(), reason=f"{CVRPLIB}: no CVRPLIB instances there")
def test_cvrplib_reader_reproduces_the_optimal_cost():
    instance = read_cvrplib(CVRPLIB / "A-n32-k5.vrp")
    routes, cost = read_cvrplib_solution(CVRPLIB / "A-n32-k5.sol")
    assert instance.num_clients == 31 and instance.capacity == 100 and cost == 784
    solution = VrpSolution("reference", routes)
    assert solution.cost(instance) == 784 and check_solution(instance, solution) == []
    x = read_cvrplib(CVRPLIB / "X-n101-k25.vrp")  # tab-separated, CRLF
    assert x.num_clients == 100 and x.capacity == 206
