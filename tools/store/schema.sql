-- Stockpilot data store. Keys, types and checks are enforced by DuckDB; the importer
-- validates first so that users get row/column messages instead of constraint errors.

CREATE TABLE IF NOT EXISTS meta (
    key VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS suppliers (
    supplier_id VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL UNIQUE,
    contact_name VARCHAR,
    contact_email VARCHAR NOT NULL,
    country VARCHAR,
    lead_time_mean_days DOUBLE NOT NULL CHECK (lead_time_mean_days > 0),
    lead_time_sd_days DOUBLE NOT NULL CHECK (lead_time_sd_days >= 0),
    moq INTEGER NOT NULL DEFAULT 1 CHECK (moq >= 1),
    on_time_rate DOUBLE CHECK (on_time_rate BETWEEN 0 AND 1)
);

CREATE TABLE IF NOT EXISTS locations (
    location_id VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL UNIQUE,
    city VARCHAR NOT NULL,
    kind VARCHAR NOT NULL DEFAULT 'warehouse' CHECK (kind IN ('warehouse', 'dc', 'store')),
    lat DOUBLE NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon DOUBLE NOT NULL CHECK (lon BETWEEN -180 AND 180)
);

CREATE TABLE IF NOT EXISTS products (
    sku VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL,
    category VARCHAR NOT NULL,
    unit_cost DOUBLE NOT NULL CHECK (unit_cost >= 0),
    price DOUBLE NOT NULL CHECK (price >= 0),
    case_pack INTEGER NOT NULL DEFAULT 1 CHECK (case_pack >= 1),
    shelf_life_days INTEGER CHECK (shelf_life_days > 0),
    supplier_id VARCHAR NOT NULL REFERENCES suppliers (supplier_id),
    launch_date DATE
);

-- sales and inventory hold ~9 M rows each at 10k SKUs x 2 years. They carry no PRIMARY KEY /
-- REFERENCES on purpose: DuckDB checks those row by row through ART indexes, which made a
-- 9 M-row load take 20 s (key) to 68 s (key + references) instead of 0.9 s, and tripled the
-- file. Uniqueness of (date, sku, location_id) and the references are guaranteed by the two
-- writers, the simulator and the importer (which validates them before writing).

-- Recorded sales (what the shop system booked), not true demand: censored by stock-outs
-- and occasionally wrong, as real data is.
CREATE TABLE IF NOT EXISTS sales (
    date DATE NOT NULL,
    sku VARCHAR NOT NULL,          -- products.sku
    location_id VARCHAR NOT NULL,  -- locations.location_id
    units INTEGER NOT NULL         -- unique key: (date, sku, location_id)
);

-- End-of-day inventory position per SKU and location.
CREATE TABLE IF NOT EXISTS inventory (
    date DATE NOT NULL,
    sku VARCHAR NOT NULL,          -- products.sku
    location_id VARCHAR NOT NULL,  -- locations.location_id
    on_hand INTEGER NOT NULL,
    allocated INTEGER NOT NULL DEFAULT 0 CHECK (allocated >= 0)  -- unique key: (date, sku, location_id)
);

CREATE TABLE IF NOT EXISTS purchase_orders (
    po_number VARCHAR PRIMARY KEY,
    supplier_id VARCHAR NOT NULL REFERENCES suppliers (supplier_id),
    location_id VARCHAR NOT NULL REFERENCES locations (location_id),
    order_date DATE NOT NULL,
    promised_date DATE NOT NULL,
    status VARCHAR NOT NULL CHECK (status IN ('open', 'partial', 'received', 'cancelled')),
    received_date DATE,
    CHECK (promised_date >= order_date)
);

CREATE TABLE IF NOT EXISTS po_lines (
    po_number VARCHAR NOT NULL REFERENCES purchase_orders (po_number),
    line_no INTEGER NOT NULL,
    sku VARCHAR NOT NULL REFERENCES products (sku),
    qty_ordered INTEGER NOT NULL CHECK (qty_ordered > 0),
    qty_received INTEGER NOT NULL DEFAULT 0 CHECK (qty_received >= 0),
    received_date DATE,
    unit_cost DOUBLE CHECK (unit_cost >= 0),
    PRIMARY KEY (po_number, line_no)
);

CREATE TABLE IF NOT EXISTS promotions (
    promo_id VARCHAR PRIMARY KEY,
    sku VARCHAR NOT NULL REFERENCES products (sku),
    location_id VARCHAR REFERENCES locations (location_id), -- NULL: all locations
    start_date DATE NOT NULL,
    end_date DATE NOT NULL,
    discount_pct DOUBLE NOT NULL CHECK (discount_pct > 0 AND discount_pct < 100),
    CHECK (end_date >= start_date)
);

-- Customer orders: baskets for recommendations, and deliveries for routing.
CREATE TABLE IF NOT EXISTS customer_orders (
    order_id VARCHAR PRIMARY KEY,
    order_date DATE NOT NULL,
    delivery_date DATE NOT NULL,
    location_id VARCHAR NOT NULL REFERENCES locations (location_id),
    customer_id VARCHAR NOT NULL,
    lat DOUBLE NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon DOUBLE NOT NULL CHECK (lon BETWEEN -180 AND 180),
    weight_kg DOUBLE NOT NULL CHECK (weight_kg >= 0),
    volume_m3 DOUBLE NOT NULL CHECK (volume_m3 >= 0),
    tw_start_min INTEGER CHECK (tw_start_min BETWEEN 0 AND 1440), -- minutes after midnight
    tw_end_min INTEGER CHECK (tw_end_min BETWEEN 0 AND 1440)
);

CREATE TABLE IF NOT EXISTS customer_order_lines (
    order_id VARCHAR NOT NULL REFERENCES customer_orders (order_id),
    sku VARCHAR NOT NULL REFERENCES products (sku),
    qty INTEGER NOT NULL CHECK (qty > 0),
    PRIMARY KEY (order_id, sku)
);

-- Written by anomaly detection; evidence is JSON so an alert can be explained later.
CREATE TABLE IF NOT EXISTS alerts (
    alert_id VARCHAR PRIMARY KEY,
    created_at TIMESTAMP NOT NULL,
    kind VARCHAR NOT NULL CHECK (kind IN ('demand_spike', 'demand_drop', 'data_error', 'supplier_delay', 'shrinkage')),
    severity VARCHAR NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    status VARCHAR NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'closed')),
    sku VARCHAR REFERENCES products (sku),
    location_id VARCHAR REFERENCES locations (location_id),
    supplier_id VARCHAR REFERENCES suppliers (supplier_id),
    po_number VARCHAR REFERENCES purchase_orders (po_number),
    start_date DATE NOT NULL,
    end_date DATE NOT NULL,
    observed DOUBLE,
    expected_low DOUBLE,
    expected_high DOUBLE,
    summary VARCHAR NOT NULL,
    evidence JSON NOT NULL
);

-- Written by the Alerts inbox (tools/alert_actions.py): what people did with an alert, who and
-- when. A scan renumbers alert ids, so an action names its alert by alert_key (kind, SKU,
-- location, supplier, PO, start date) too, and no foreign key ties it to the replaced alerts.
CREATE TABLE IF NOT EXISTS alert_actions (
    alert_key VARCHAR NOT NULL,
    alert_id VARCHAR NOT NULL,
    action VARCHAR NOT NULL CHECK (action IN ('acknowledge', 'assign', 'snooze', 'close', 'reopen')),
    actor VARCHAR NOT NULL,
    acted_at TIMESTAMP NOT NULL,
    assignee VARCHAR,
    until DATE,
    note VARCHAR
);

-- Written by the batch forecast; one row per SKU, location and future day (latest run only).
CREATE TABLE IF NOT EXISTS forecasts (
    sku VARCHAR NOT NULL REFERENCES products (sku),
    location_id VARCHAR NOT NULL REFERENCES locations (location_id),
    date DATE NOT NULL,
    model VARCHAR NOT NULL,
    demand_class VARCHAR NOT NULL,
    mean DOUBLE NOT NULL,
    lo_80 DOUBLE NOT NULL,
    hi_80 DOUBLE NOT NULL,
    lo_95 DOUBLE NOT NULL,
    hi_95 DOUBLE NOT NULL,
    run_at TIMESTAMP NOT NULL,
    PRIMARY KEY (sku, location_id, date)
);
