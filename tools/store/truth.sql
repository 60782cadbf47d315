-- Simulator ground truth, in a separate database file that the data-access layer never
-- opens: used only by tests and benchmarks to score the assistant.

CREATE TABLE IF NOT EXISTS true_demand (          -- history and hidden future
    date DATE NOT NULL,
    sku VARCHAR NOT NULL,
    location_id VARCHAR NOT NULL,
    expected DOUBLE NOT NULL,                      -- the demand process mean (noise floor)
    demand INTEGER NOT NULL                        -- realised, unconstrained demand
);                                                 -- unique (date, sku, location_id); no index: 9 M rows

CREATE TABLE IF NOT EXISTS future_inventory (      -- what really happens after 'today'
    date DATE NOT NULL,
    sku VARCHAR NOT NULL,
    location_id VARCHAR NOT NULL,
    on_hand INTEGER NOT NULL,
    sales INTEGER NOT NULL,
    lost_sales INTEGER NOT NULL,
    PRIMARY KEY (date, sku, location_id)
);

CREATE TABLE IF NOT EXISTS future_receipts (       -- when open POs really arrive, and how much
    po_number VARCHAR NOT NULL,
    line_no INTEGER NOT NULL,
    sku VARCHAR NOT NULL,
    received_date DATE NOT NULL,
    qty_received INTEGER NOT NULL,
    PRIMARY KEY (po_number, line_no)
);

CREATE TABLE IF NOT EXISTS demand_patterns (
    sku VARCHAR NOT NULL,
    location_id VARCHAR NOT NULL,
    pattern VARCHAR NOT NULL,                      -- smooth, seasonal, trending, intermittent, lumpy, new_launch
    PRIMARY KEY (sku, location_id)
);

CREATE TABLE IF NOT EXISTS anomaly_labels (
    label_id INTEGER PRIMARY KEY,
    kind VARCHAR NOT NULL,                         -- same vocabulary as alerts.kind
    sku VARCHAR,
    location_id VARCHAR,
    supplier_id VARCHAR,
    po_number VARCHAR,
    start_date DATE NOT NULL,
    end_date DATE NOT NULL,
    magnitude DOUBLE
);

CREATE TABLE IF NOT EXISTS basket_groups (         -- planted basket structure
    group_id INTEGER NOT NULL,
    kind VARCHAR NOT NULL,                         -- complement (bought together) or substitute (never together)
    sku VARCHAR NOT NULL,
    PRIMARY KEY (group_id, sku)
);
