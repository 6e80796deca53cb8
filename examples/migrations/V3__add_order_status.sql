-- Orders get a status, changed only through set_order_status().
ALTER TABLE orders
    ADD COLUMN status text NOT NULL DEFAULT 'pending'
        CONSTRAINT orders_status_check
        CHECK (status IN ('pending', 'paid', 'shipped', 'cancelled'));

-- The body is dollar-quoted and full of semicolons: they belong to the
-- function, not to the migration's list of statements.
CREATE FUNCTION set_order_status(p_order_id bigint, p_status text)
RETURNS text
LANGUAGE plpgsql
AS $body$
DECLARE
    v_old text;
BEGIN
    SELECT status INTO v_old FROM orders WHERE id = p_order_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'order % does not exist', p_order_id;
    END IF;
    IF v_old = 'cancelled' AND p_status <> 'cancelled' THEN
        RAISE EXCEPTION 'order % is cancelled; it cannot become %', p_order_id, p_status;
    END IF;
    UPDATE orders SET status = p_status WHERE id = p_order_id;
    RETURN v_old;
END;
$body$;
