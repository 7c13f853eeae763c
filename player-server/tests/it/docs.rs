//! The curl examples of docs/http.md run as tests: each `console` block's
//! `$ curl ...` commands, in order, against a service of their own, the
//! answer compared with what the page shows (the status line, the headers it
//! names, the body; `[..]` matches what varies within a line), so the page
//! cannot drift from what the service answers.

use crate::common::{Http, Service};

/// One `$ curl` of the page and the answer it shows.
#[derive(Debug)]
struct Example {
    command: String,
    shown: Vec<String>,
}

fn examples(page: &str) -> Vec<Example> {
    let mut examples = Vec::new();
    let mut in_console = false;
    let mut lines = page.lines().peekable();
    while let Some(line) = lines.next() {
        if line.starts_with("```") {
            in_console = !in_console && line == "```console";
            continue;
        }
        if !in_console {
            continue;
        }
        if let Some(command) = line.strip_prefix("$ ") {
            let mut command = command.to_owned();
            while command.ends_with('\\') {
                command.pop();
                command.push_str(lines.next().unwrap().trim_start());
            }
            examples.push(Example {
                command,
                shown: Vec::new(),
            });
        } else if let Some(example) = examples.last_mut() {
            example.shown.push(line.to_owned());
        }
    }
    for example in &mut examples {
        while example.shown.last().is_some_and(|l| l.is_empty()) {
            example.shown.pop();
        }
    }
    examples
}

/// Whether `actual` is `shown`, where `[..]` in `shown` matches anything.
fn matches(shown: &str, actual: &str) -> bool {
    let mut parts = shown.split("[..]");
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = actual.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    for (i, part) in parts.iter().enumerate() {
        if i + 1 == parts.len() {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

/// Runs one curl command line with reqwest and prints the answer as
/// `curl -s` (`-si`) would: the status line and headers, a blank line, the body.
fn run(http: &Http, command: &str) -> (Vec<String>, reqwest::header::HeaderMap) {
    let words = shlex::split(command).unwrap();
    assert_eq!(words[0], "curl", "{command}");
    let (mut method, mut url, mut include, mut body) = (None, None, false, None);
    let mut headers = Vec::new();
    let mut words = words[1..].iter();
    while let Some(word) = words.next() {
        match word.as_str() {
            "-s" => {}
            "-si" | "-is" => include = true,
            "-X" => method = words.next().cloned(),
            "-H" => headers.push(words.next().unwrap().clone()),
            "-d" => body = words.next().cloned(),
            other => url = Some(other.replace("localhost:8080", "")),
        }
    }
    let method = method.unwrap_or_else(|| if body.is_some() { "POST" } else { "GET" }.into());
    let mut request = http
        .client()
        .request(method.parse().unwrap(), http.url(&url.unwrap()));
    for header in headers {
        let (name, value) = header.split_once(": ").unwrap();
        request = request.header(name, value);
    }
    if let Some(body) = body {
        request = request.body(body);
    }
    let answer = request.send().unwrap();
    let mut out = Vec::new();
    let headers = answer.headers().clone();
    if include {
        let status = answer.status();
        out.push(format!(
            "HTTP/1.1 {} {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or_default()
        ));
        for (name, value) in &headers {
            out.push(format!("{name}: {}", value.to_str().unwrap()));
        }
        out.push(String::new());
    }
    let text = answer.text().unwrap();
    out.extend(text.lines().map(str::to_owned));
    (out, headers)
}

#[test]
fn the_curl_examples_of_http_md_answer_as_shown() {
    let page =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/http.md")).unwrap();
    let examples = examples(&page);
    assert!(examples.len() >= 10, "{examples:?}");
    let s = Service::start();
    for example in &examples {
        let (actual, _) = run(&s.http, &example.command);
        // Every line shown is in the answer, in order; curl prints headers
        // the page leaves out (date, content-length, x-request-id).
        let mut at = 0;
        for line in &example.shown {
            let found = actual[at..].iter().position(|a| matches(line, a));
            assert!(
                found.is_some(),
                "{}\nshows {line:?}\nbut the answer is:\n{}",
                example.command,
                actual.join("\n")
            );
            at += found.unwrap_or_default() + 1;
        }
    }
}

#[test]
fn the_matcher_can_fail() {
    assert!(matches("a[..]c", "abbbc"));
    assert!(matches("{\"t\":\"[..]Z\"}", "{\"t\":\"2026Z\"}"));
    assert!(!matches("a[..]c", "abbbd"));
    assert!(!matches("HTTP/1.1 201 Created", "HTTP/1.1 200 OK"));
    assert!(matches("same", "same") && !matches("same", "same but longer"));
}
