-- Undoes V3: the function first, since it refers to the column.
DROP FUNCTION set_order_status(bigint, text);

ALTER TABLE orders DROP COLUMN status;
