-- The vendor's loader: the bank's statement lines into the hospital's finance warehouse.
CREATE TABLE bank_lines (
    line_id    text,
    booked_at  timestamptz,
    amount     numeric(12, 2),
    currency   char(3),
    reference  text,
    payer_name text
);
\copy bank_lines FROM '/data/bank-lines.csv' WITH (FORMAT csv, HEADER true)
