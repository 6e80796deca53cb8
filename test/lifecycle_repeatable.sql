-- Repeatable R__ scripts: after every versioned migration, in name order,
-- again whenever the checksum changes, never when it does not.
\set ON_ERROR_STOP 1
\set QUIET 1
SET client_min_messages = warning;
SELECT current_setting('migrate_test.fixtures') AS fx \gset
\set v1 :fx/lifecycle_repeatable/v1
\set v2 :fx/lifecycle_repeatable/v2

SELECT plan(12);

-- a target stops before the repeatables
CALL migrate.apply(:'v1', target => '1');
SELECT results_eq($$SELECT script FROM migrate.history$$,
    $$VALUES ('V1__items.sql'::text)$$, 'with a target, repeatables wait for a full apply');
SELECT is((SELECT count(*) FROM migrate.status(:'v1') WHERE state = 'pending'), 2::bigint,
    'they are pending');

CALL migrate.apply(:'v1');
SELECT results_eq($$SELECT script, type FROM migrate.history ORDER BY rank$$,
    $$VALUES ('V1__items.sql'::text, 'versioned'::text), ('R__a_helpers.sql', 'repeatable'),
             ('R__b_items_view.sql', 'repeatable')$$,
    'versioned first, then the repeatables in name order');
SELECT results_eq(
    format('SELECT version, description, type, script, state FROM migrate.status(%L)', :'v1'),
    $$VALUES ('1'::text, 'items'::text, 'versioned'::text, 'V1__items.sql'::text, 'applied'::text),
             (NULL, 'a helpers', 'repeatable', 'R__a_helpers.sql', 'applied'),
             (NULL, 'b items view', 'repeatable', 'R__b_items_view.sql', 'applied')$$,
    'status shows the repeatables after the versioned ones, without a version');

CALL migrate.apply(:'v1');
SELECT is((SELECT count(*) FROM migrate.history), 3::bigint, 'unchanged repeatables do not run again');
SELECT is((SELECT count(*) FROM public.lr_log), 2::bigint, 'their statements did not run again');

-- v2: a new versioned migration and a changed repeatable that needs it
SELECT results_eq(
    format('SELECT script, state FROM migrate.status(%L)', :'v2'),
    $$VALUES ('V1__items.sql'::text, 'applied'::text), ('V2__item_price.sql', 'pending'),
             ('R__a_helpers.sql', 'applied'), ('R__b_items_view.sql', 'pending')$$,
    'a changed repeatable is pending again; an unchanged one is not');
CALL migrate.apply(:'v2');
SELECT results_eq($$SELECT script FROM migrate.history WHERE rank > 3 ORDER BY rank$$,
    $$VALUES ('V2__item_price.sql'::text), ('R__b_items_view.sql')$$,
    'V2 ran, then only the changed repeatable');
SELECT results_eq($$SELECT script FROM public.lr_log ORDER BY n$$,
    $$VALUES ('R__a_helpers v1'::text), ('R__b_items_view v1'), ('R__b_items_view v2')$$,
    'R__a_helpers did not run again');
SELECT has_column('public', 'lr_items_view', 'price', 'the view is the one of v2 (it needed V2 first)');
SELECT is((SELECT checksum FROM migrate.history WHERE script = 'R__b_items_view.sql' ORDER BY rank DESC LIMIT 1),
    (SELECT checksum FROM migrate.status(:'v2') WHERE script = 'R__b_items_view.sql'),
    'the new checksum is recorded');

CALL migrate.apply(:'v2');
SELECT is((SELECT count(*) FROM migrate.history), 5::bigint, 'and it does not run a third time');

SELECT * FROM finish();
