-- Orders belong to a customer; a customer with orders cannot be deleted.
CREATE TABLE orders (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id  bigint      NOT NULL,
    total_cents  integer     NOT NULL CHECK (total_cents >= 0),
    placed_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT orders_customer_id_fkey
        FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE RESTRICT
);

-- "Orders of this customer" is the common query, and the foreign key check
-- on customer deletion needs it too.
CREATE INDEX orders_customer_id_placed_at_idx ON orders (customer_id, placed_at DESC);
