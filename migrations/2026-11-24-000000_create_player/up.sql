-- The tutorial's `player` table. The id column uses a binary collation so ids
-- compare byte for byte (TiDB's default; MySQL/MariaDB default to case-insensitive).
-- TiDB enforces CHECK constraints only with `tidb_enable_check_constraint = ON`
-- (v7.2+); the application never relies on them, they are a second line of defence.
CREATE TABLE player (
    id VARCHAR(36) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    coins INT NOT NULL,
    goods INT NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT player_coins_non_negative CHECK (coins >= 0),
    CONSTRAINT player_goods_non_negative CHECK (goods >= 0)
);
