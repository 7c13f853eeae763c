-- The ledger of keyed trades: one row per idempotency key, written in the
-- same transaction as the trade it names, so both commit or neither. A trade
-- sent again with the same key finds its row and returns the stored outcome.
--
-- The primary key is the SHA-256 of the caller's key, not the key itself.
-- TiDB stores a clustered table's rows in primary-key order and splits them
-- into regions by key range: keys that grow with time (`order-1`,
-- `order-2`, ..., or a timestamp) would send every insert to the last
-- region, one TiKV node taking all the writes. The hash spreads them over
-- every region. `/*T![clustered_index] CLUSTERED */` asks TiDB (5.0+) to
-- cluster the rows on it, one key-value pair per row instead of two; MySQL
-- and MariaDB read it as a comment (InnoDB clusters on the primary key anyway).
-- The caller's key is kept in its own column, to show and to compare.
--
-- `created_at` is what retention reads (`player-cli ledger prune`, or
-- TiDB's TTL: docs/cli.md). It has no index on purpose: an index on a time
-- column is the same hotspot again, every insert at its end.
-- `outcome` is `done`, `seller_lacks_goods` or `buyer_lacks_coins`; TiDB
-- enforces the CHECK only with `tidb_enable_check_constraint = ON` (v7.2+).
CREATE TABLE keyed_trade (
    key_hash BINARY(32) NOT NULL,
    idempotency_key VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    seller VARCHAR(36) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    buyer VARCHAR(36) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    amount INT NOT NULL,
    price INT NOT NULL,
    outcome VARCHAR(20) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (key_hash) /*T![clustered_index] CLUSTERED */,
    CONSTRAINT keyed_trade_outcome CHECK (outcome IN ('done', 'seller_lacks_goods', 'buyer_lacks_coins'))
);
