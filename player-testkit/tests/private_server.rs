//! The private server starts, serves, survives a restart with its data, and
//! answers nothing once `pause` has returned.
use diesel::prelude::*;
use std::time::Duration;

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

#[test]
fn a_paused_server_answers_nothing_until_resumed() {
    require!(Need::PrivateMariaDb);
    let server = PrivateServer::start(&[]);
    let mut conn = MysqlConnection::establish(&server.url("test")).expect("connect");
    for _ in 0..3 {
        server.pause();
        let (tx, rx) = std::sync::mpsc::channel();
        let query = std::thread::spawn(move || {
            let rows: QueryResult<Vec<N>> = diesel::sql_query("SELECT 1 AS n").load(&mut conn);
            tx.send(()).expect("the test waits");
            (conn, rows)
        });
        assert!(
            rx.recv_timeout(Duration::from_millis(300)).is_err(),
            "a query sent after pause() returned was answered"
        );
        server.resume();
        let (back, rows) = query.join().expect("the query thread");
        assert_eq!(rows.expect("answered once resumed")[0].n, 1);
        conn = back;
    }
}
