//! `/openapi.json`: an OpenAPI 3 document generated from the code, that
//! names exactly the routes the service answers.

use std::collections::BTreeSet;

use crate::common::Service;

/// Every route of the service, with its methods.
const ROUTES: &[(&str, &str)] = &[
    ("/health", "get"),
    ("/metrics", "get"),
    ("/openapi.json", "get"),
    ("/players", "get"),
    ("/players", "post"),
    ("/players/bulk", "post"),
    ("/players/{id}", "delete"),
    ("/players/{id}", "get"),
    ("/players/{id}", "patch"),
    ("/ready", "get"),
    ("/trades", "post"),
    ("/trades/{key}", "get"),
];

#[test]
fn the_document_lists_every_route_and_each_answers() {
    let s = Service::start();
    let doc = s.http.get("/openapi.json");
    assert_eq!(doc.status, 200);
    let doc = doc.body;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{doc}");
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(|method| (path.clone(), method.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    let expected: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(p, m)| ((*p).to_owned(), (*m).to_owned()))
        .collect();
    assert_eq!(documented, expected);
    // Each documented route is one the router has: never "no endpoint" nor
    // "method not allowed".
    for (path, method) in &documented {
        let concrete = path.replace("{id}", "nobody").replace("{key}", "nokey");
        let method: reqwest::Method = method.to_uppercase().parse().unwrap();
        let answer = s.http.send(
            s.http
                .client()
                .request(method.clone(), s.http.url(&concrete)),
        );
        assert!(
            ![404, 405].contains(&answer.status)
                || answer.body["type"] != "/problems/not-found" && answer.status != 405,
            "{method} {concrete}: {answer:?}"
        );
    }
    // Every error documented is a problem.
    assert!(doc["components"]["schemas"]["Problem"].is_object(), "{doc}");
}
