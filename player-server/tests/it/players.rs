//! `/players`: every endpoint, its answers and its refusals.

use serde_json::json;

use crate::common::{Service, path_of};

#[test]
fn create_get_update_delete() {
    let s = Service::start();
    let made = s.http.post(
        "/players",
        &json!({"id": "alice", "coins": 100, "goods": 3}),
    );
    assert_eq!(made.status, 201, "{made:?}");
    assert_eq!(made.header("location"), Some("/players/alice"));
    assert_eq!(made.body, json!({"id": "alice", "coins": 100, "goods": 3}));
    assert!(made.header("x-request-id").is_some_and(|id| id.len() == 36));

    assert_eq!(s.http.get("/players/alice").body, made.body);
    // The column's collation: trailing spaces do not count, case does.
    assert_eq!(s.http.get(&path_of("alice  ")).body["id"], "alice");
    s.http
        .get("/players/Alice")
        .problem(404, "player-not-found");

    let changed = s.http.patch("/players/alice", &json!({"goods": 5}));
    assert_eq!(changed.status, 200, "{changed:?}");
    assert_eq!(
        changed.body,
        json!({"id": "alice", "coins": 100, "goods": 5})
    );
    let changed = s
        .http
        .patch(&path_of("alice "), &json!({"coins": 0, "goods": 0}));
    assert_eq!(changed.body, json!({"id": "alice", "coins": 0, "goods": 0}));

    let gone = s.http.delete("/players/alice");
    assert_eq!((gone.status, gone.text.as_str()), (204, ""));
    s.http
        .get("/players/alice")
        .problem(404, "player-not-found");
    s.http
        .delete("/players/alice")
        .problem(404, "player-not-found");
    s.http
        .patch("/players/alice", &json!({"coins": 1}))
        .problem(404, "player-not-found");
}

#[test]
fn create_defaults_as_the_cli_does_and_refuses_twins() {
    let s = Service::start();
    let random = s.http.post("/players", &json!({}));
    assert_eq!(random.status, 201, "{random:?}");
    let id = random.body["id"].as_str().unwrap();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    assert_eq!(
        (random.body["coins"].clone(), random.body["goods"].clone()),
        (json!(0), json!(0))
    );

    s.http.players(&[("a", 1, 1)]);
    let twin = s.http.post("/players", &json!({"id": "a   "}));
    twin.problem(409, "player-exists");
    assert!(twin.detail().contains("\"a   \""), "{twin:?}");
    assert_eq!(s.http.post("/players", &json!({"id": "A"})).status, 201);
    // Ids are kept verbatim, SQL included: queries bind them.
    let odd = r#"x' OR '1'='1\"#;
    s.http.players(&[(odd, 0, 0)]);
    assert_eq!(s.http.get(&path_of(odd)).body["id"], odd);
}

#[test]
fn values_are_checked_as_the_cli_checks_them() {
    let s = Service::start();
    for (body, wording) in [
        (
            json!({"id": "b", "coins": -1}),
            "coins: `-1` is not between 0 and 2147483647",
        ),
        (
            json!({"id": "b", "goods": 2_147_483_648_i64}),
            "goods: `2147483648` is not between 0 and 2147483647",
        ),
        (
            json!({"id": ""}),
            "id: a player id cannot be empty or only spaces",
        ),
        (
            json!({"id": "   "}),
            "id: a player id cannot be empty or only spaces",
        ),
        (
            json!({"id": "x".repeat(37)}),
            "id: a player id has at most 36 characters, this one has 37",
        ),
    ] {
        let refused = s.http.post("/players", &body);
        refused.problem(422, "invalid-input");
        assert_eq!(refused.detail(), wording);
    }
    // 36 characters, not bytes.
    assert_eq!(
        s.http
            .post("/players", &json!({"id": "é".repeat(36)}))
            .status,
        201
    );
    for body in [
        json!({"id": "b", "coins": 1.5}),
        json!({"id": "b", "bonus": 1}),
        json!({"id": 7}),
        json!([1]),
    ] {
        s.http
            .post("/players", &body)
            .problem(400, "invalid-request");
    }
    s.http.players(&[("b", 1, 1)]);
    s.http
        .patch("/players/b", &json!({}))
        .problem(422, "invalid-input");
    s.http
        .patch("/players/b", &json!({"coins": -5}))
        .problem(422, "invalid-input");
    s.http
        .patch("/players/b", &json!({"coins": "5"}))
        .problem(400, "invalid-request");
    s.http
        .get(&path_of(&"x".repeat(37)))
        .problem(422, "invalid-input");
    assert_eq!(
        s.http.get("/players/b").body,
        json!({"id": "b", "coins": 1, "goods": 1})
    );
}

#[test]
fn pages_follow_the_id_order_and_end_with_a_null_cursor() {
    let s = Service::start();
    let ids = ["a", "a\t", "b", "B", "c", "é"];
    for id in ids {
        s.http.players(&[(id, 1, 1)]);
    }
    // utf8mb4_bin, padded: "a\t" < "a", upper case first, é last.
    let expected = ["B", "a\t", "a", "b", "c", "é"];
    let mut seen = Vec::new();
    let mut path = "/players?limit=2".to_owned();
    loop {
        let page = s.http.get(&path);
        assert_eq!(page.status, 200, "{page:?}");
        let players = page.body["players"].as_array().unwrap();
        assert!(players.len() <= 2);
        seen.extend(players.iter().map(|p| p["id"].as_str().unwrap().to_owned()));
        match page.body["next"].as_str() {
            Some(next) => {
                assert_eq!(next, seen.last().unwrap());
                let mut url = reqwest::Url::parse("http://h/players?limit=2").unwrap();
                url.query_pairs_mut().append_pair("after", next);
                path = format!("{}?{}", url.path(), url.query().unwrap());
            }
            None => break,
        }
        assert!(seen.len() <= ids.len(), "{seen:?}");
    }
    assert_eq!(seen, expected);
    let all = s.http.get("/players");
    assert_eq!(all.body["players"].as_array().unwrap().len(), 6);
    assert_eq!(all.body["next"], serde_json::Value::Null);
    let last = s.http.get("/players?after=%C3%A9");
    assert_eq!(last.body, json!({"players": [], "next": null}));

    for bad in [
        "/players?limit=0",
        "/players?limit=10001",
        "/players?after=",
    ] {
        s.http.get(bad).problem(422, "invalid-input");
    }
    for bad in ["/players?limit=x", "/players?page=2"] {
        s.http.get(bad).problem(400, "invalid-request");
    }
}

#[test]
fn bulk_creates_all_or_nothing() {
    let s = Service::start();
    let made = s.http.post(
        "/players/bulk",
        &json!([{"id": "p1", "coins": 5}, {"id": "p2", "goods": 7}, {}]),
    );
    assert_eq!(made.status, 201, "{made:?}");
    let made = made.body.as_array().unwrap();
    assert_eq!(made.len(), 3);
    assert_eq!(made[0], json!({"id": "p1", "coins": 5, "goods": 0}));
    assert_eq!(made[2]["id"].as_str().unwrap().len(), 36);

    // One id the table holds: nothing of the list is created.
    let clash = s.http.post(
        "/players/bulk",
        &json!([{"id": "p3"}, {"id": "p2 "}, {"id": "p4"}]),
    );
    clash.problem(409, "player-exists");
    assert!(clash.detail().contains("\"p2\""), "{clash:?}");
    s.http.get("/players/p3").problem(404, "player-not-found");
    s.http.get("/players/p4").problem(404, "player-not-found");

    // Over several INSERTs (100 rows each), still one transaction: a clash
    // in the last batch takes the first two back.
    let mut long: Vec<_> = (0..250).map(|i| json!({"id": format!("l{i}")})).collect();
    long[240] = json!({"id": "p1"});
    s.http
        .post("/players/bulk", &json!(long))
        .problem(409, "player-exists");
    s.http.get("/players/l0").problem(404, "player-not-found");
    long[240] = json!({"id": "l240"});
    let made = s.http.post("/players/bulk", &json!(long));
    assert_eq!(made.body.as_array().map(Vec::len), Some(250), "{made:?}");
    for i in 0..250 {
        s.http.delete(&format!("/players/l{i}"));
    }

    // Twins within the list, an empty list, a bad value: 422, nothing created.
    let twins = s
        .http
        .post("/players/bulk", &json!([{"id": "q"}, {"id": "q "}]));
    twins.problem(422, "invalid-input");
    assert!(
        twins.detail().contains("[0].id \"q\" and [1].id \"q \""),
        "{twins:?}"
    );
    s.http
        .post("/players/bulk", &json!([]))
        .problem(422, "invalid-input");
    let bad = s.http.post(
        "/players/bulk",
        &json!([{"id": "r"}, {"id": "s", "coins": -1}]),
    );
    bad.problem(422, "invalid-input");
    assert_eq!(
        bad.detail(),
        "[1].coins: `-1` is not between 0 and 2147483647"
    );
    let too_many: Vec<_> = (0..=player_server::MAX_BULK)
        .map(|i| json!({"id": i.to_string()}))
        .collect();
    s.http
        .post("/players/bulk", &json!(too_many))
        .problem(422, "invalid-input");
    assert_eq!(
        s.http.get("/players?limit=100").body["players"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}
