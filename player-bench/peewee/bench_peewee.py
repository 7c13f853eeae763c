"""The TiDB peewee tutorial's own code, timed for player-bench.

    python bench_peewee.py load  --url mysql://root@127.0.0.1:4000/DB --count N [--batch 114] [--rows CSV]
    python bench_peewee.py trade --url mysql://root@127.0.0.1:4000/DB --count N \
        --seller A --buyer B [--amount 1] [--price 1]

--url defaults to $DATABASE_URL. The `player` table must already exist (the caller creates it); nothing here
creates or drops tables. Prints one JSON line on stdout:
    {"mode": ..., "count": N, "seconds": ..., "per_second": ...}
where "seconds" is the wall time of the measured loop only. With
--print-counters, the session's Com_* counter deltas over that loop go to
stderr as one JSON object. Errors: a message on stderr, exit status 1.
"""

import argparse
import json
import os
import sys
import time
import uuid
from typing import Callable, List

import peewee
from peewee import *

from playhouse.db_url import connect

# The tutorial does `db = connect('mysql://root:@127.0.0.1:4000/test')` at
# module level; here the URL comes from the command line, so main() connects
# and binds the model to it (no proxy in between, so no extra indirection).
db = None


class Player(Model):
    id = CharField(max_length=36, primary_key=True)
    coins = IntegerField()
    goods = IntegerField()

    class Meta:
        table_name = "player"


def random_player(amount: int) -> List[Player]:
    players = []
    for _ in range(amount):
        players.append(Player(id=uuid.uuid4(), coins=10000, goods=10000))

    return players


# trade_check and trade are the tutorial's, minus its per-trade print():
# a trade that cannot be done raises instead, so the run fails loudly.
def trade_check(sell_id: str, buy_id: str, amount: int, price: int) -> bool:
    sell_goods = Player.select(Player.goods).where(Player.id == sell_id).get().goods
    if sell_goods < amount:
        return False

    buy_coins = Player.select(Player.coins).where(Player.id == buy_id).get().coins
    if buy_coins < price:
        return False

    return True


def trade(sell_id: str, buy_id: str, amount: int, price: int) -> None:
    with db.atomic() as txn:
        try:
            if trade_check(sell_id, buy_id, amount, price) is False:
                # the tutorial rolls back and returns; here the rollback below runs and the bench stops
                raise RuntimeError(f'trade {sell_id} -> {buy_id} refused: not enough goods or coins')

            # deduct the goods of seller, and raise his/her the coins
            Player.update(goods=Player.goods - amount, coins=Player.coins + price).where(Player.id == sell_id).execute()
            # deduct the coins of buyer, and raise his/her the goods
            Player.update(goods=Player.goods + amount, coins=Player.coins - price).where(Player.id == buy_id).execute()

        except Exception:
            txn.rollback()
            raise
        else:
            # As in the tutorial: commit here, and atomic() commits again on exit.
            txn.commit()


def com_counters() -> dict:
    # Read on the raw PyMySQL connection so peewee adds no COMMIT of its own.
    cursor = db.connection().cursor()
    cursor.execute("SHOW SESSION STATUS LIKE 'Com\\_%'")
    return {name.lower(): int(value) for name, value in cursor.fetchall()}


def players_from_csv(path: str, count: int) -> List[Player]:
    # The caller's rows (id,coins,goods lines), so every loader inserts the same players.
    players = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if len(players) == count:
                break
            id, coins, goods = line.rstrip("\n").split(",")
            players.append(Player(id=id, coins=int(coins), goods=int(goods)))
    if len(players) < count:
        raise ValueError(f"{path} holds {len(players)} players, fewer than --count {count}")
    return players


def load(count: int, batch: int, rows: str = None) -> Callable[[], None]:
    # The rows are made before the clock starts; only bulk_create is timed.
    players = players_from_csv(rows, count) if rows else random_player(count)
    return lambda: Player.bulk_create(players, batch)


def trades(count: int, seller: str, buyer: str, amount: int, price: int) -> Callable[[], None]:
    def run() -> None:
        # Alternate the direction so both balances stay where they started.
        for i in range(count):
            if i % 2 == 0:
                trade(seller, buyer, amount, price)
            else:
                trade(buyer, seller, amount, price)

    return run


class Parser(argparse.ArgumentParser):
    def error(self, message):
        # usage errors exit 1 like every other error (argparse's own is 2)
        self.print_usage(sys.stderr)
        sys.exit(f"bench_peewee: {message}")


def main() -> None:
    global db
    parser = Parser(description="Time the TiDB peewee tutorial's code.")
    parser.add_argument("mode", choices=["load", "trade"])
    parser.add_argument("--url", default=os.environ.get("DATABASE_URL"),
                        help="mysql://user[:password]@host:port/database [default: $DATABASE_URL, which keeps "
                             "a password out of the process list]")
    parser.add_argument("--count", type=int, required=True, help="players to insert, or trades to make")
    parser.add_argument("--batch", type=int, default=114, help="load: players per INSERT (tutorial: 114)")
    parser.add_argument("--rows", metavar="CSV",
                        help="load: insert the first --count players of this id,coins,goods file "
                             "instead of the tutorial's random_player()")
    parser.add_argument("--seller", help="trade: first seller's id")
    parser.add_argument("--buyer", help="trade: first buyer's id")
    parser.add_argument("--amount", type=int, default=1, help="trade: goods per trade")
    parser.add_argument("--price", type=int, default=1, help="trade: coins per trade")
    parser.add_argument("--print-counters", action="store_true",
                        help="print the session's Com_* deltas over the timed loop on stderr")
    args = parser.parse_args()
    if args.count < 0 or args.batch < 1:
        parser.error("--count must be >= 0 and --batch >= 1")
    if not args.url:
        parser.error("--url or DATABASE_URL is required")
    if args.mode == "trade" and not (args.seller and args.buyer):
        parser.error("trade needs --seller and --buyer")

    db = connect(args.url)
    if not isinstance(db, MySQLDatabase) or peewee.mysql is None or peewee.mysql.__name__ != "pymysql":
        raise RuntimeError("need a mysql:// URL and PyMySQL as peewee's driver")
    db.bind([Player])
    db.connect()

    if args.mode == "load":
        run = load(args.count, args.batch, args.rows)
    else:
        run = trades(args.count, args.seller, args.buyer, args.amount, args.price)

    if args.print_counters:
        # Two reads in a row tell what one read adds to the counters itself.
        first = com_counters()
        before = com_counters()
        overhead = {k: v - first.get(k, 0) for k, v in before.items()}

    start = time.perf_counter()
    run()
    seconds = time.perf_counter() - start

    if args.print_counters:
        after = com_counters()
        deltas = {k: v - before.get(k, 0) - overhead.get(k, 0) for k, v in after.items()}
        print(json.dumps({k: v for k, v in deltas.items() if v}), file=sys.stderr)

    db.close()
    print(json.dumps({
        "mode": args.mode,
        "count": args.count,
        "seconds": seconds,
        "per_second": args.count / seconds if seconds > 0 else 0.0,
    }))


if __name__ == "__main__":
    try:
        main()
    except Exception as err:
        print(f"bench_peewee: {type(err).__name__}: {err}", file=sys.stderr)
        sys.exit(1)
