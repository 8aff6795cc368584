#!/usr/bin/env bash
# The schema migration is versioned and idempotent: a second broker start
# on the same database changes nothing.
. "$(dirname "$0")/../lib.sh"

t_db
t_broker
kill -TERM "${PID[broker]}"
t_wait "broker exit" 30 bash -c "! kill -0 ${PID[broker]}"
grep -q "schema_ready version=12 applied=12" "$T_DIR/broker.log" || t_fail "first start did not apply migrations 1 to 12"

dump() { pg_dump --schema-only --no-owner "$DB" | grep -v -e '^--' -e '^$' -e '^\\restrict' -e '^\\unrestrict'; }
dump > "$T_DIR/schema1.sql"
rows1=$(t_sql "SELECT version, description FROM shoal_schema ORDER BY version")

t_broker
kill -TERM "${PID[broker]}"
t_wait "broker exit" 30 bash -c "! kill -0 ${PID[broker]}"
grep -q "schema_ready version=12 applied=0" "$T_DIR/broker.log" || t_fail "second start applied something"
dump > "$T_DIR/schema2.sql"
diff -u "$T_DIR/schema1.sql" "$T_DIR/schema2.sql" || t_fail "schema changed on the second start"
t_assert_eq "shoal_schema rows" "$rows1" "$(t_sql "SELECT version, description FROM shoal_schema ORDER BY version")"
t_assert_eq "migration rows" 12 "$(t_sql "SELECT count(*) FROM shoal_schema")"
# the epoch counts broker starts
t_assert_eq "epoch after two starts" 2 "$(t_sql "SELECT value FROM shoal_meta WHERE key = 'epoch'")"
t_log "pass"
