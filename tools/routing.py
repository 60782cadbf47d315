"""Delivery route planning for a day's customer orders with a VRP solver (PyVRP / OR-Tools).

The tool turns the delivery orders of one warehouse and day into a capacitated VRP with time
windows (straight-line haversine distances, a constant speed, a few minutes of service per
stop, depot hours 06:00-20:00) and solves it with PyVRP's hybrid genetic search. OR-Tools'
routing solver (guided local search) is the drop-in alternative for side constraints PyVRP
does not model, and the benchmark compares the two. ``read_cvrplib`` / ``read_cvrplib_solution``
load standard CVRPLIB instances so solver quality can be checked against known optima.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from tools.arguments import DateText, Location, Names, resolve_date
from tools.registry import Evidence, Request, ToolContext, ToolError, ToolResult, tool

SPEED_KMH = 40.0
SERVICE_MIN = 5
DEPOT_OPEN_MIN, DEPOT_CLOSE_MIN = 6 * 60, 20 * 60
DEFAULT_CAPACITY_KG = 1000.0
DEFAULT_TIME_LIMIT_S = 2.0
DEFAULT_SEED = 42
EARTH_RADIUS_M = 6_371_000.0
LOAD_SCALE = 10  # solver loads are integers: weights in 0.1 kg, rounded up so capacity holds


# -- the solver-facing instance and solution ---------------------------------------------
@dataclass
class VrpInstance:
    """A (capacitated, optionally time-windowed) VRP. Node 0 is the depot; times in seconds."""

    name: str
    distances: np.ndarray  # int64 (n+1, n+1), metres or CVRPLIB units
    demands: np.ndarray  # int64 (n+1,), depot 0
    capacity: int
    num_vehicles: int
    durations: np.ndarray | None = None  # int64 (n+1, n+1) seconds; None: no time dimension
    service: np.ndarray | None = None  # int64 (n+1,) seconds
    tw_early: np.ndarray | None = None  # int64 (n+1,) seconds after midnight; [0] = depot
    tw_late: np.ndarray | None = None
    allow_unserved: bool = False  # True: orders may be dropped (at a large penalty) if infeasible
    coords: np.ndarray | None = None

    @property
    def num_clients(self) -> int:
        return len(self.demands) - 1

    @property
    def timed(self) -> bool:
        return self.durations is not None

    def unserved_penalty(self) -> int:
        """Larger than any detour, so a solver only drops an order it cannot fit."""
        return int(self.distances.max()) * 4 + 1_000_000


@dataclass
class VrpSolution:
    """Routes as lists of client nodes (1..n) with their service start times (seconds)."""

    solver: str
    routes: list[list[int]]
    starts: list[list[int]] = field(default_factory=list)
    route_windows: list[tuple[int, int]] = field(default_factory=list)  # (depart, return) seconds
    unserved: list[int] = field(default_factory=list)
    seconds: float = 0.0

    def cost(self, instance: VrpInstance) -> int:
        return sum(route_distance(instance, r) for r in self.routes)


def route_distance(instance: VrpInstance, route: list[int]) -> int:
    nodes = [0, *route, 0]
    return int(sum(instance.distances[a, b] for a, b in zip(nodes, nodes[1:], strict=False)))


def check_solution(instance: VrpInstance, solution: VrpSolution) -> list[str]:
    """Independent feasibility check: capacity, time windows, each client at most once."""
    problems = []
    seen = [c for r in solution.routes for c in r]
    if len(seen) != len(set(seen)):
        problems.append("a client is visited twice")
    if set(seen) | set(solution.unserved) != set(range(1, instance.num_clients + 1)):
        problems.append("clients missing from routes and unserved list")
    for k, route in enumerate(solution.routes):
        if int(instance.demands[route].sum()) > instance.capacity:
            problems.append(f"route {k + 1} exceeds capacity")
        if instance.timed and _time_warp(instance, route):
            problems.append(f"route {k + 1} misses a time window")
    if len(solution.routes) > instance.num_vehicles:
        problems.append("more routes than vehicles")
    return problems


def _time_warp(instance: VrpInstance, route: list[int]) -> bool:
    """True when the route cannot meet its windows even leaving the depot at opening time."""
    t, previous = int(instance.tw_early[0]), 0
    for node in route:
        t = max(
            t + int(instance.service[previous]) + int(instance.durations[previous, node]),
            int(instance.tw_early[node]),
        )
        if t > instance.tw_late[node]:
            return True
        previous = node
    back = t + int(instance.service[previous]) + int(instance.durations[previous, 0])
    return back > instance.tw_late[0]


# -- solvers ------------------------------------------------------------------------------
def solve_pyvrp(
    instance: VrpInstance, time_limit_s: float = DEFAULT_TIME_LIMIT_S, seed: int = DEFAULT_SEED
) -> VrpSolution:
    """Hybrid genetic search (PyVRP 0.14), stopped after ``time_limit_s``; seeded, so repeatable
    up to the time limit."""
    from pyvrp import Client, Depot, ProblemData, VehicleType, solve
    from pyvrp import Location as PyvrpLocation
    from pyvrp.stop import MaxRuntime

    n = instance.num_clients
    big = np.iinfo(np.int64).max
    early = instance.tw_early if instance.timed else np.zeros(n + 1, dtype=np.int64)
    late = instance.tw_late if instance.timed else np.full(n + 1, big, dtype=np.int64)
    service = instance.service if instance.timed else np.zeros(n + 1, dtype=np.int64)
    coords = instance.coords if instance.coords is not None else np.zeros((n + 1, 2))
    locations = [PyvrpLocation(x=float(x), y=float(y)) for x, y in coords]
    clients = [
        Client(
            location=i,
            delivery=[int(instance.demands[i])],
            service_duration=int(service[i]),
            tw_early=int(early[i]),
            tw_late=int(late[i]),
            required=not instance.allow_unserved,
            prize=instance.unserved_penalty() if instance.allow_unserved else 0,
        )
        for i in range(1, n + 1)
    ]
    depot = Depot(location=0, tw_early=int(early[0]), tw_late=int(late[0]))
    vehicles = VehicleType(
        num_available=instance.num_vehicles,
        capacity=[instance.capacity],
        tw_early=int(early[0]),
        tw_late=int(late[0]),
    )
    durations = instance.durations if instance.timed else np.zeros_like(instance.distances)
    data = ProblemData(
        locations,
        clients,
        [depot],
        [vehicles],
        [instance.distances.astype(np.int64)],
        [durations.astype(np.int64)],
    )
    started = time.perf_counter()
    result = solve(data, MaxRuntime(time_limit_s), seed=seed, collect_stats=False, display=False)
    elapsed = time.perf_counter() - started
    best = result.best
    if not best.is_feasible():
        # With required clients and too few vehicles HGS may return a penalised solution.
        return VrpSolution("pyvrp", [], unserved=list(range(1, n + 1)), seconds=elapsed)
    routes, starts, windows = [], [], []
    for route in best.routes():
        visits = [a for a in route.schedule() if a.is_client()]
        routes.append([a.idx + 1 for a in visits])  # client index -> node (depot is node 0)
        starts.append([int(a.start_time) for a in visits])
        windows.append((int(route.start_time()), int(route.end_time())))
    served = {c for r in routes for c in r}
    unserved = [c for c in range(1, n + 1) if c not in served]
    return VrpSolution("pyvrp", routes, starts, windows, unserved, elapsed)


def solve_ortools(
    instance: VrpInstance, time_limit_s: float = DEFAULT_TIME_LIMIT_S, seed: int = DEFAULT_SEED
) -> VrpSolution:
    """OR-Tools routing: path-cheapest-arc start, guided local search until ``time_limit_s``.
    ``seed`` is accepted for a uniform signature; the search itself is deterministic."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    n = instance.num_clients
    manager = pywrapcp.RoutingIndexManager(n + 1, instance.num_vehicles, 0)
    routing = pywrapcp.RoutingModel(manager)
    distance_cb = routing.RegisterTransitMatrix(instance.distances.astype(np.int64).tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(distance_cb)
    demand_cb = routing.RegisterUnaryTransitVector([int(d) for d in instance.demands])
    routing.AddDimensionWithVehicleCapacity(
        demand_cb, 0, [instance.capacity] * instance.num_vehicles, True, "load"
    )
    time_dim = _ortools_time_dimension(instance, manager, routing) if instance.timed else None
    if instance.allow_unserved:
        for node in range(1, n + 1):
            routing.AddDisjunction([manager.NodeToIndex(node)], instance.unserved_penalty())
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    params.time_limit.FromMilliseconds(int(time_limit_s * 1000))
    started = time.perf_counter()
    assignment = routing.SolveWithParameters(params)
    elapsed = time.perf_counter() - started
    if assignment is None:
        return VrpSolution("ortools", [], unserved=list(range(1, n + 1)), seconds=elapsed)
    return _ortools_routes(instance, manager, routing, assignment, time_dim, elapsed)


def _ortools_time_dimension(instance, manager, routing):
    transit = (instance.durations + instance.service[:, None]).astype(np.int64)
    time_cb = routing.RegisterTransitMatrix(transit.tolist())
    horizon = int(instance.tw_late[0])
    routing.AddDimension(time_cb, horizon, horizon, False, "time")  # slack = waiting
    dim = routing.GetDimensionOrDie("time")
    for node in range(1, instance.num_clients + 1):
        dim.CumulVar(manager.NodeToIndex(node)).SetRange(
            int(instance.tw_early[node]), int(instance.tw_late[node])
        )
    for vehicle in range(instance.num_vehicles):
        for index in (routing.Start(vehicle), routing.End(vehicle)):
            dim.CumulVar(index).SetRange(int(instance.tw_early[0]), int(instance.tw_late[0]))
        # Prefer late departures / early returns: the reported schedule has no idle time.
        routing.AddVariableMinimizedByFinalizer(dim.CumulVar(routing.End(vehicle)))
        routing.AddVariableMaximizedByFinalizer(dim.CumulVar(routing.Start(vehicle)))
    return dim


def _ortools_routes(instance, manager, routing, assignment, time_dim, elapsed) -> VrpSolution:
    routes, starts, windows = [], [], []
    for vehicle in range(instance.num_vehicles):
        index = assignment.Value(routing.NextVar(routing.Start(vehicle)))
        route, times = [], []
        while not routing.IsEnd(index):
            route.append(manager.IndexToNode(index))
            times.append(int(assignment.Min(time_dim.CumulVar(index))) if time_dim else 0)
            index = assignment.Value(routing.NextVar(index))
        if route:
            routes.append(route)
            starts.append(times)
            if time_dim:
                windows.append(
                    (
                        int(assignment.Value(time_dim.CumulVar(routing.Start(vehicle)))),
                        int(assignment.Min(time_dim.CumulVar(routing.End(vehicle)))),
                    )
                )
    served = {c for r in routes for c in r}
    unserved = [c for c in range(1, instance.num_clients + 1) if c not in served]
    return VrpSolution("ortools", routes, starts, windows, unserved, elapsed)


SOLVERS: dict[str, Callable[..., VrpSolution]] = {"pyvrp": solve_pyvrp, "ortools": solve_ortools}


# -- CVRPLIB files ---------------------------------------------------------------------------
def read_cvrplib(path: str | Path) -> VrpInstance:
    """Read a CVRPLIB ``EUC_2D`` .vrp file (CRLF and tab separated fields accepted). Distances
    follow the CVRPLIB convention: nint of the Euclidean distance. The fleet is left free
    (one vehicle per customer); the ``k`` in the name is in ``name`` for callers who want it."""
    text = Path(path).read_text().replace("\r", "")
    header, coords, demands, section = {}, {}, {}, None
    for raw in text.split("\n"):
        line = raw.strip()
        if not line or line == "EOF":
            continue
        if re.match(r"^[A-Z_]+\s*:", line):
            key, value = line.split(":", 1)
            header[key.strip()] = value.strip().strip('"')
            continue
        if re.fullmatch(r"[A-Z_]+_SECTION", line.split()[0]):
            section = line.split()[0]
            continue
        parts = line.split()
        if section == "NODE_COORD_SECTION":
            coords[int(parts[0])] = (float(parts[1]), float(parts[2]))
        elif section == "DEMAND_SECTION":
            demands[int(parts[0])] = int(parts[1])
    if header.get("EDGE_WEIGHT_TYPE", "EUC_2D") != "EUC_2D":
        raise ValueError(f"{path}: only EUC_2D instances are supported")
    ids = sorted(coords)
    xy = np.array([coords[i] for i in ids])
    dist = np.floor(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) + 0.5).astype(
        np.int64
    )
    n = len(ids) - 1
    return VrpInstance(
        name=header.get("NAME", Path(path).stem),
        distances=dist,
        demands=np.array([demands[i] for i in ids], dtype=np.int64),
        capacity=int(header["CAPACITY"]),
        num_vehicles=n,
        coords=xy,
    )


def read_cvrplib_solution(path: str | Path) -> tuple[list[list[int]], int]:
    """A CVRPLIB .sol file -> (routes as node lists 1..n, stated cost). Customers in .sol files
    are numbered 1..n, which is exactly our node numbering (depot = node 0)."""
    routes, cost = [], None
    for raw in Path(path).read_text().replace("\r", "").split("\n"):
        line = raw.strip()
        if line.lower().startswith("route"):
            routes.append([int(x) for x in line.split(":", 1)[1].split()])
        elif line.lower().startswith("cost"):
            cost = int(float(line.split()[1]))
    return routes, cost


# -- from delivery orders to an instance -------------------------------------------------------
def haversine_matrix(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Great-circle distances in whole metres between all pairs of points."""
    phi, lam = np.radians(lat), np.radians(lon)
    dphi = phi[:, None] - phi[None, :]
    dlam = lam[:, None] - lam[None, :]
    a = np.sin(dphi / 2) ** 2 + np.cos(phi[:, None]) * np.cos(phi[None, :]) * np.sin(dlam / 2) ** 2
    return np.rint(2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0, 1)))).astype(np.int64)


def delivery_instance(
    depot: dict, orders: pd.DataFrame, capacity_kg: float, vehicles: int, name: str = "deliveries"
) -> VrpInstance:
    """Orders (lat, lon, weight_kg, tw_start_min, tw_end_min) from one depot -> VrpInstance."""
    lat = np.concatenate([[depot["lat"]], orders.lat.to_numpy(float)])
    lon = np.concatenate([[depot["lon"]], orders.lon.to_numpy(float)])
    dist = haversine_matrix(lat, lon)
    durations = np.rint(dist / (SPEED_KMH * 1000 / 3600)).astype(np.int64)
    demands = np.concatenate(
        [[0], np.ceil(orders.weight_kg.to_numpy(float) * LOAD_SCALE - 1e-9)]
    ).astype(np.int64)
    open_s, close_s = DEPOT_OPEN_MIN * 60, DEPOT_CLOSE_MIN * 60
    start = orders.tw_start_min.fillna(DEPOT_OPEN_MIN).to_numpy(float) * 60
    end = orders.tw_end_min.fillna(DEPOT_CLOSE_MIN).to_numpy(float) * 60
    early = np.concatenate([[open_s], np.maximum(start, open_s)]).astype(np.int64)
    late = np.concatenate([[close_s], np.minimum(end, close_s)]).astype(np.int64)
    late = np.maximum(
        late, early
    )  # a window outside depot hours collapses; the order goes unserved
    service = np.full(len(lat), SERVICE_MIN * 60, dtype=np.int64)
    service[0] = 0
    return VrpInstance(
        name=name,
        distances=dist,
        demands=demands,
        capacity=int(math.floor(capacity_kg * LOAD_SCALE)),
        num_vehicles=vehicles,
        durations=durations,
        service=service,
        tw_early=early,
        tw_late=late,
        allow_unserved=True,
        coords=np.column_stack([lon, lat]),
    )


def default_vehicles(total_kg: float, capacity_kg: float, orders: int) -> int:
    """The load needs plus half again and one spare (time windows cost extra vehicles)."""
    return max(1, min(orders, math.ceil(1.5 * total_kg / capacity_kg) + 1))


# -- the tool ------------------------------------------------------------------------------------
class PlanRoutesRequest(Request):
    location: Location = None
    date: DateText = None
    vehicles: Annotated[int | None, Field(None, ge=1, le=100), Names("count")] = None
    capacity_kg: Annotated[float | None, Field(None, gt=0, le=100_000), Names("count")] = None


class RouteStop(BaseModel):
    seq: int
    order_id: str
    customer_id: str
    arrival: str  # HH:MM service start (after any wait for the window)
    window: str | None  # HH:MM-HH:MM when the order has a time window
    weight_kg: float


class VehicleRoute(BaseModel):
    vehicle: int
    depart: str
    back: str
    distance_km: float
    load_kg: float
    stops: list[RouteStop]


class RoutePlan(ToolResult):
    location_id: str
    date: date
    solver: str
    orders: int
    vehicles_available: int
    vehicles_used: int
    capacity_kg: float
    total_distance_km: float
    total_load_kg: float
    routes: list[VehicleRoute]
    unserved: list[str]

    def render(self) -> str:
        head = (
            f"Routes {self.location_id} {self.date.isoformat()}: {self.orders} orders, "
            f"{self.vehicles_used} of {self.vehicles_available} vehicles x {self.capacity_kg:g} kg, "
            f"{self.total_distance_km:.1f} km, {self.total_load_kg:.1f} kg."
        )
        lines = [head]
        for r in self.routes:
            stops = " ".join(f"{s.order_id}@{s.arrival}" for s in r.stops)
            lines.append(
                f"V{r.vehicle} {r.depart}-{r.back} {len(r.stops)} stops {r.distance_km:.1f} km "
                f"{r.load_kg:.1f} kg: {stops}"
            )
        lines.append("Unserved: " + (", ".join(self.unserved) if self.unserved else "none"))
        return "\n".join(lines)

    def summary(self) -> str:
        head = (
            f"Routes from {self.location_id} on {self.date.isoformat()}: {self.vehicles_used} of "
            f"{self.vehicles_available} vans serve {self.orders - len(self.unserved)} of "
            f"{self.orders} orders, {self.total_distance_km:.1f} km and {self.total_load_kg:.1f} kg "
            "in all."
        )
        vans = [
            f"Van {r.vehicle}: {len(r.stops)} stops, {r.distance_km:.1f} km, {r.load_kg:.1f} kg, "
            f"out {r.depart}, back {r.back}."
            for r in self.routes
        ]
        unserved = f"Not served: {', '.join(self.unserved)}." if self.unserved else ""
        return "\n".join([head, *vans, unserved]).strip()

    def table(self) -> pd.DataFrame:
        rows = [{"vehicle": r.vehicle, **s.model_dump()} for r in self.routes for s in r.stops]
        return pd.DataFrame(
            rows,
            columns=["vehicle", "seq", "order_id", "customer_id", "arrival", "window", "weight_kg"],
        )


def hhmm(seconds: float) -> str:
    minutes = int(round(seconds / 60))
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _window(order) -> str | None:
    if pd.isna(order.tw_start_min) or pd.isna(order.tw_end_min):
        return None
    return f"{hhmm(order.tw_start_min * 60)}-{hhmm(order.tw_end_min * 60)}"


def _busiest_location(ctx: ToolContext, day: date) -> str:
    location_id = ctx.store.scalar(
        "SELECT location_id FROM customer_orders WHERE delivery_date = ? "
        "GROUP BY location_id ORDER BY count(*) DESC, location_id LIMIT 1",
        [day],
    )
    if location_id is None:
        raise ToolError(f"date: no delivery orders on {day.isoformat()} at any location")
    return location_id


def solve_deliveries(
    instance: VrpInstance,
    solver: str = "pyvrp",
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
    seed: int = DEFAULT_SEED,
    grow_fleet: bool = False,
) -> VrpSolution:
    """Solve; with ``grow_fleet`` (no fleet size given) double the fleet while orders stay unserved."""
    solution = SOLVERS[solver](instance, time_limit_s, seed)
    while grow_fleet and solution.unserved and instance.num_vehicles < instance.num_clients:
        instance.num_vehicles = min(instance.num_clients, instance.num_vehicles * 2)
        solution = SOLVERS[solver](instance, time_limit_s, seed)
    return solution


def plan_delivery_routes(
    ctx: ToolContext,
    req: PlanRoutesRequest,
    solver: str = "pyvrp",
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
    seed: int = DEFAULT_SEED,
) -> RoutePlan:
    """``plan_routes`` with a choice of solver and time limit (the tool uses the defaults)."""
    if solver not in SOLVERS:
        raise ToolError(f"solver: unknown solver '{solver}'; use one of {', '.join(SOLVERS)}")
    store = ctx.store
    day = resolve_date(req.date, store.today())
    location_id = (
        store.location(req.location)["location_id"] if req.location else _busiest_location(ctx, day)
    )
    depot = store.location(location_id)
    orders = store.deliveries(day, location_id)
    if orders.empty:
        raise ToolError(f"date: no delivery orders on {day.isoformat()} from {location_id}")
    capacity = float(req.capacity_kg or DEFAULT_CAPACITY_KG)
    heaviest = float(orders.weight_kg.max())
    if heaviest > capacity:
        raise ToolError(
            f"capacity_kg: {capacity:g} kg is below the heaviest order ({heaviest:g} kg)"
        )
    total = float(orders.weight_kg.sum())
    vehicles = req.vehicles or default_vehicles(total, capacity, len(orders))
    instance = delivery_instance(depot, orders, capacity, vehicles, name=f"{location_id}-{day}")
    solution = solve_deliveries(
        instance, solver, time_limit_s, seed, grow_fleet=req.vehicles is None
    )
    return _plan_result(instance, solution, orders, location_id, day, capacity, time_limit_s)


def _plan_result(instance, solution, orders, location_id, day, capacity, time_limit_s) -> RoutePlan:
    routes = []
    for k, (route, starts) in enumerate(
        zip(solution.routes, solution.starts, strict=True), start=1
    ):
        rows = orders.iloc[[node - 1 for node in route]]
        stops = [
            RouteStop(
                seq=i,
                order_id=o.order_id,
                customer_id=o.customer_id,
                arrival=hhmm(t),
                window=_window(o),
                weight_kg=round(float(o.weight_kg), 1),
            )
            for i, (o, t) in enumerate(zip(rows.itertuples(), starts, strict=True), start=1)
        ]
        depart, back = solution.route_windows[k - 1]
        routes.append(
            VehicleRoute(
                vehicle=k,
                depart=hhmm(depart),
                back=hhmm(back),
                distance_km=round(route_distance(instance, route) / 1000, 1),
                load_kg=round(float(rows.weight_kg.sum()), 1),
                stops=stops,
            )
        )
    unserved = [orders.order_id.iloc[node - 1] for node in solution.unserved]
    notes = (
        [f"{len(unserved)} orders could not be fitted in the vehicles/time windows"]
        if unserved
        else []
    )
    return RoutePlan(
        location_id=location_id,
        date=day,
        solver=solution.solver,
        orders=len(orders),
        vehicles_available=instance.num_vehicles,
        vehicles_used=len(routes),
        capacity_kg=capacity,
        total_distance_km=round(sum(r.distance_km for r in routes), 1),
        total_load_kg=round(sum(r.load_kg for r in routes), 1),
        routes=routes,
        unserved=unserved,
        evidence=Evidence(
            sources=["customer_orders", "locations"],
            method=(
                f"{solution.solver} CVRPTW, {time_limit_s:g} s limit; straight-line haversine km, "
                f"{SPEED_KMH:g} km/h, {SERVICE_MIN} min service, depot {hhmm(DEPOT_OPEN_MIN * 60)}-"
                f"{hhmm(DEPOT_CLOSE_MIN * 60)}"
            ),
            period=day.isoformat(),
            notes=notes,
        ),
    )


@tool("plan_routes", "delivery routes for a day's orders from a warehouse", PlanRoutesRequest)
def plan_routes(ctx: ToolContext, req: PlanRoutesRequest) -> RoutePlan:
    return plan_delivery_routes(ctx, req)
