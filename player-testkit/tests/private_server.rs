//! The private server starts, serves, and survives a restart with its data.
use diesel::prelude::*;
use player_testkit::{Need, PrivateServer, require};

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    n: i32,
}

#[test]
fn private_server_keeps_data_across_restart() {
    require!(Need::PrivateMariaDb);
    let mut server = PrivateServer::start(&[]);
    let mut conn = MysqlConnection::establish(&server.url("test")).expect("connect");
    diesel::sql_query("CREATE TABLE t (n INT)")
        .execute(&mut conn)
        .expect("create");
    diesel::sql_query("INSERT INTO t VALUES (7)")
        .execute(&mut conn)
        .expect("insert");
    drop(conn);
    server.restart();
    let mut conn = MysqlConnection::establish(&server.url("test")).expect("reconnect");
    let rows: Vec<N> = diesel::sql_query("SELECT n FROM t")
        .load(&mut conn)
        .expect("select");
    assert_eq!(rows.iter().map(|r| r.n).collect::<Vec<_>>(), vec![7]);
}
