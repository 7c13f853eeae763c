//! `ssl_mode` and `ssl_ca` against private TLS servers whose CA and
//! certificates the test makes: each mode does what MySQL defines.

use std::path::{Path, PathBuf};

use diesel::prelude::*;
use player_admin::catalog::server_info;
use player_core::db::{self, ConnectError, DatabaseUrl};
use player_testkit::{Need, PrivateServer, require};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

use crate::common::cli;

/// A CA and files signed by it, written to a folder.
struct Pki {
    /// The CA that signs the server certificates.
    ca: PathBuf,
    /// A CA that signed nothing here.
    other_ca: PathBuf,
}

/// A server certificate and key for `names` (DNS names or IP addresses).
struct ServerCert {
    cert: PathBuf,
    key: PathBuf,
}

fn ca_params(name: &str) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params
}

/// Writes two CAs and a server certificate for `names`, signed by the first.
fn make_pki(dir: &Path, names: &[&str]) -> (Pki, ServerCert) {
    let write = |file: &str, text: String| {
        let path = dir.join(file);
        std::fs::write(&path, text).expect("write PEM");
        path
    };
    let ca_key = KeyPair::generate().expect("key");
    let params = ca_params("player-cli test CA");
    let ca = write("ca.pem", params.self_signed(&ca_key).expect("CA").pem());
    let issuer = Issuer::new(params, ca_key);

    let other_key = KeyPair::generate().expect("key");
    let other_ca = write(
        "other-ca.pem",
        ca_params("player-cli unrelated CA")
            .self_signed(&other_key)
            .expect("CA")
            .pem(),
    );

    let server_key = KeyPair::generate().expect("key");
    let mut params =
        CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .expect("server params");
    params.distinguished_name.push(DnType::CommonName, names[0]);
    let cert = write(
        "server-cert.pem",
        params.signed_by(&server_key, &issuer).expect("sign").pem(),
    );
    let key = write("server-key.pem", server_key.serialize_pem());
    (Pki { ca, other_ca }, ServerCert { cert, key })
}

/// A private server with TLS whose certificate names `names`.
/// The PEM files live in a folder removed when the test drops it.
fn tls_server(names: &[&str]) -> (PrivateServer, Pki, tempfile::TempDir) {
    let dir = tempfile::Builder::new()
        .prefix("player-cli-pki-")
        .tempdir()
        .expect("pki dir");
    let (pki, server) = make_pki(dir.path(), names);
    let args = [
        format!("--ssl-ca={}", pki.ca.display()),
        format!("--ssl-cert={}", server.cert.display()),
        format!("--ssl-key={}", server.key.display()),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    (PrivateServer::start(&args), pki, dir)
}

fn url(server: &PrivateServer, query: &str) -> DatabaseUrl {
    format!("{}?{query}", server.url("test"))
        .parse()
        .expect("valid URL")
}

/// Connects and returns the session cipher ("" when plaintext).
fn cipher(url: &DatabaseUrl) -> Result<String, ConnectError> {
    let mut conn = db::connect(url)?;
    let info = server_info(&mut conn).expect("server info");
    Ok(info.tls_cipher.unwrap_or_default())
}

#[test]
fn modes_against_a_server_whose_certificate_names_127_0_0_1() {
    require!(Need::PrivateMariaDb);
    let (server, pki, _dir) = tls_server(&["localhost", "127.0.0.1"]);
    let ca = pki.ca.display();
    let other = pki.other_ca.display();

    // verify_identity with the right CA: connected and encrypted.
    let c = cipher(&url(
        &server,
        &format!("ssl_mode=verify_identity&ssl_ca={ca}"),
    ))
    .expect("verify_identity with the right CA connects");
    assert!(!c.is_empty(), "verify_identity session has no cipher");

    // A CA that did not sign the certificate fails verify_ca and verify_identity.
    for mode in ["verify_ca", "verify_identity"] {
        let err = cipher(&url(&server, &format!("ssl_mode={mode}&ssl_ca={other}")))
            .expect_err("a wrong CA must fail");
        assert!(
            matches!(err, ConnectError::Connect { .. }),
            "{mode}: {err:?}"
        );
    }
    // ssl_ca alone means verify_ca: the wrong CA fails too.
    cipher(&url(&server, &format!("ssl_ca={other}"))).expect_err("ssl_ca alone verifies");

    // required and preferred encrypt without checking the certificate.
    for mode in ["required", "preferred"] {
        let c = cipher(&url(&server, &format!("ssl_mode={mode}"))).expect(mode);
        assert!(!c.is_empty(), "{mode} session has no cipher");
    }
    // The control: disabled is plaintext, so the cipher check can fail.
    let c = cipher(&url(&server, "ssl_mode=disabled")).expect("disabled connects");
    assert_eq!(c, "", "disabled session is encrypted");
}

#[test]
fn required_is_really_encrypted_for_a_require_ssl_user() {
    require!(Need::PrivateMariaDb);
    let (server, _pki, _dir) = tls_server(&["127.0.0.1"]);
    let mut root = db::connect(&url(&server, "ssl_mode=disabled")).expect("root");
    for stmt in [
        "CREATE USER 'tls_only'@'127.0.0.1' IDENTIFIED BY 's3cr/t p@ss' REQUIRE SSL",
        "GRANT ALL PRIVILEGES ON test.* TO 'tls_only'@'127.0.0.1'",
    ] {
        diesel::sql_query(stmt).execute(&mut root).expect(stmt);
    }
    let user_url = |query: &str| -> DatabaseUrl {
        format!(
            "mysql://tls_only:s3cr%2Ft%20p%40ss@127.0.0.1:{}/test?{query}",
            server.port()
        )
        .parse()
        .expect("valid URL")
    };
    // The server itself refuses this user a plaintext session...
    let err = cipher(&user_url("ssl_mode=disabled")).expect_err("REQUIRE SSL user in plaintext");
    assert!(err.to_string().contains("Access denied"), "{err}");
    assert!(!err.to_string().contains("p@ss"), "password shown: {err}");
    // ...and accepts it under ssl_mode=required, so the session is encrypted.
    let c = cipher(&user_url("ssl_mode=required")).expect("required connects");
    assert!(!c.is_empty());

    // `ping` says so, with the password masked.
    let shown = user_url("ssl_mode=required").to_string();
    let run = cli(user_url("ssl_mode=required").expose(), &["ping"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains(&format!("TLS: on ({c}")),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains(&shown), "{}", run.stdout);
    assert!(!run.stdout.contains("s3cr"), "{}", run.stdout);
}

#[test]
fn a_certificate_for_another_host_passes_verify_ca_but_fails_verify_identity() {
    require!(Need::PrivateMariaDb);
    let (server, pki, _dir) = tls_server(&["db.other.example"]);
    let ca = pki.ca.display();
    let err = cipher(&url(
        &server,
        &format!("ssl_mode=verify_identity&ssl_ca={ca}"),
    ))
    .expect_err("verify_identity must check the host name");
    assert!(matches!(err, ConnectError::Connect { .. }), "{err:?}");
    let c = cipher(&url(&server, &format!("ssl_mode=verify_ca&ssl_ca={ca}")))
        .expect("verify_ca does not check the host name");
    assert!(!c.is_empty());
}

#[test]
fn required_fails_against_a_server_without_tls() {
    require!(Need::PrivateMariaDb);
    let server = PrivateServer::start(&[]);
    let err = cipher(&url(&server, "ssl_mode=required")).expect_err("no plaintext fallback");
    assert!(matches!(err, ConnectError::Connect { .. }), "{err:?}");
    // The control: preferred falls back to plaintext.
    assert_eq!(
        cipher(&url(&server, "ssl_mode=preferred")).expect("preferred"),
        ""
    );
}
