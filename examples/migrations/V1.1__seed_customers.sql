-- A few customers so that a fresh database is not empty.
INSERT INTO customers (email, full_name) VALUES
    ('ada@example.com',   'Ada Lovelace'),
    ('alan@example.com',  'Alan Turing'),
    ('grace@example.com', 'Grace Hopper');
