//! Secrets at rest and the OAuth flow's defences, attacked for real: `zendesk connect` runs as
//! a child process against the stand-in over loopback HTTP (PKCE S256 end to end, a code bound
//! to another challenge refused, the token and registry owner-only in an owner-only folder),
//! and organization names that would leave the data folder are refused by name, both for the
//! token file (`connect --org`) and for a sandbox's state file.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use scenarist::config::Workspace;
use scenarist::source::SourceFile;
use scenarist::zendesk::sandbox;
use sha2::{Digest as _, Sha256};
use zendesk_standin::{StandIn, StandInConfig};

use crate::support::tempdir;
use crate::zendesk_cli::{Authorizing, FIELDS, all, config, run, workspace};

const TOKEN_FILE: &str = "{ type: oauth, token_file: data/zendesk/acme.token }";
const CLIENT_SECRET: (&str, &str) = ("ZENDESK_CLIENT_SECRET", "standin-secret");

/// `BASE64URL-no-pad(SHA-256(verifier))`, RFC 7636's S256.
fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// The value of `key` in the query of `url`.
fn query_param(url: &str, key: &str) -> Option<String> {
    reqwest::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// 32 random bytes in base64url without padding.
fn assert_random_43(what: &str, text: &str) {
    assert_eq!(text.len(), 43, "{what}: {text}");
    assert!(
        text.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "{what}: {text}"
    );
}

#[cfg(unix)]
fn mode(path: &Path) -> String {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::symlink_metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode();
    format!("{:o}", mode & 0o777)
}

/// Every file under `dir`, as paths relative to it, sorted.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    found.sort();
    found
}

/// How many entries (files or folders) `dir` holds.
fn entries(dir: &Path) -> usize {
    std::fs::read_dir(dir).unwrap().count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_sends_the_pkce_verifier_of_its_challenge_and_stores_the_token_owner_only() {
    let standin = StandIn::start(0, StandInConfig::default()).await.unwrap();
    let url = standin.url();
    let dir = workspace(&url, TOKEN_FILE, FIELDS, "zendesk");
    let cfg = config(&dir);
    let connecting = Authorizing::start(
        &[
            "zendesk", "connect", &url, "--org", "acme", "--config", &cfg,
        ],
        &[CLIENT_SECRET],
    )
    .await;
    let authorize = connecting.url.clone();
    let challenge = query_param(&authorize, "code_challenge").expect("a PKCE challenge");
    assert_eq!(
        query_param(&authorize, "code_challenge_method").as_deref(),
        Some("S256"),
        "{authorize}"
    );
    let state = query_param(&authorize, "state").unwrap();
    assert_random_43("state", &state);
    assert_random_43("challenge (a SHA-256 in base64url)", &challenge);

    let page = reqwest::get(&authorize).await.unwrap();
    assert!(page.status().is_success());
    let (status, rest) = connecting.finish().await;
    assert_eq!(status.code(), Some(0), "{rest}");

    // The token exchange the stand-in received carried the verifier of that challenge.
    let exchange = standin
        .requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.path == "/oauth/tokens")
        .expect("a token exchange");
    let body: serde_json::Value = serde_json::from_slice(&exchange.body).unwrap();
    let verifier = body["code_verifier"].as_str().expect("a code_verifier");
    assert_random_43("verifier", verifier);
    assert_eq!(s256(verifier), challenge);
    assert_ne!(verifier, state, "two separate random values");
    assert!(
        !authorize.contains(verifier),
        "the verifier never leaves in the URL"
    );

    #[cfg(unix)]
    {
        let data = dir.join("data");
        assert_eq!(mode(&data), "700");
        assert_eq!(mode(&data.join("zendesk")), "700");
        assert_eq!(mode(&data.join("zendesk/acme.token")), "600");
        assert_eq!(mode(&data.join("zendesk/connections.json")), "600");
    }
    assert_eq!(
        files_under(&dir.join("data")),
        [
            Path::new("zendesk/acme.token"),
            Path::new("zendesk/connections.json")
        ],
        "no temp file is left behind"
    );
    standin.stop().await;
}

/// PKCE's point: a code obtained for someone else's challenge (an attacker's code pushed into
/// the callback, or a request whose challenge was swapped on the way) cannot be exchanged with
/// this process's verifier. The stand-in refuses like Zendesk, and nothing is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_bound_to_another_pkce_challenge_is_refused_and_nothing_is_stored() {
    let standin = StandIn::start(0, StandInConfig::default()).await.unwrap();
    let url = standin.url();
    let dir = workspace(&url, TOKEN_FILE, FIELDS, "zendesk");
    let cfg = config(&dir);
    let connecting = Authorizing::start(
        &[
            "zendesk", "connect", &url, "--org", "acme", "--config", &cfg,
        ],
        &[CLIENT_SECRET],
    )
    .await;
    let ours = query_param(&connecting.url, "code_challenge").unwrap();
    let theirs = s256("the-attacker-knows-this-verifier-0123456789");
    let swapped = connecting.url.replace(
        &format!("code_challenge={ours}"),
        &format!("code_challenge={theirs}"),
    );
    assert_ne!(swapped, connecting.url);
    let page = reqwest::get(&swapped).await.unwrap();
    assert!(page.status().is_success());
    let (status, rest) = connecting.finish().await;
    assert_eq!(status.code(), Some(1), "{rest}");
    assert!(
        rest.contains(
            "✗ Zendesk refused to issue a token: the authorization code was not accepted"
        ),
        "{rest}"
    );
    let exchange = standin
        .requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.path == "/oauth/tokens")
        .expect("a token exchange");
    let body: serde_json::Value = serde_json::from_slice(&exchange.body).unwrap();
    assert_eq!(
        body["code_verifier"].as_str().map(s256),
        Some(ours),
        "the CLI sent its own verifier"
    );
    assert!(!dir.join("data").exists(), "no token and no registry entry");
    standin.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_refuses_an_org_name_that_would_leave_the_data_folder() {
    let standin = StandIn::start(0, StandInConfig::default()).await.unwrap();
    let url = standin.url();
    let root = tempdir();
    let data = root.join("a/b/data");
    for (name, shown, reason) in [
        (
            "../../../escaped",
            "\"../../../escaped\"",
            "it contains '.'",
        ),
        ("x/y", "\"x/y\"", "it contains '/'"),
        ("x\u{1b}[2Jy", "\"x\\u{1b}[2Jy\"", "it contains '\\u{1b}'"),
    ] {
        let output = run(
            &[
                "zendesk",
                "connect",
                &url,
                "--org",
                name,
                "--data",
                data.to_str().unwrap(),
            ],
            &[CLIENT_SECRET],
        )
        .await;
        let text = all(&output);
        assert_eq!(output.status.code(), Some(2), "{text}");
        assert!(
            text.contains(&format!(
                "the organization name {shown} cannot be part of a file name: {reason}"
            )) && text.contains("(--org NAME)"),
            "{text}"
        );
        assert!(!text.contains('\u{1b}'), "{text:?}");
    }
    assert_eq!(entries(&root), 0, "nothing created anywhere");
    assert!(standin.requests().is_empty(), "refused before any request");
    standin.stop().await;
}

/// A sandbox's state file is `<data>/zendesk-sandbox-<org>.json`: the name comes from the
/// config, so one that would climb out of the data folder is refused, naming it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sandbox_named_to_leave_the_data_folder_is_refused_by_name() {
    let root = tempdir();
    let data = root.join("a/b/data");
    let yaml = "version: 1
zendesk:
  organizations:
    \"../../../escaped\":
      url: http://127.0.0.1:0
      auth: { type: sandbox }
      sync: { mode: interface }
";
    let workspace =
        Workspace::parse(SourceFile::new("scenarist.yaml", yaml), PathBuf::from("/")).unwrap();
    let Err(error) = sandbox::start(&workspace, Some(&data)).await else {
        panic!("the sandbox started");
    };
    assert_eq!(error.organization, "../../../escaped");
    assert_eq!(
        error.to_string(),
        "cannot start the Zendesk sandbox \"../../../escaped\": the organization name \
         \"../../../escaped\" cannot be part of a file name: it contains '.'; use 1 to 64 ASCII \
         letters, digits, `-` and `_` (e.g. `acme`)"
    );
    assert_eq!(entries(&root), 0, "nothing created anywhere");

    // A plain name starts, and its state (which holds the tokens it issues) is owner-only.
    let yaml = yaml.replace("\"../../../escaped\"", "acme");
    let workspace =
        Workspace::parse(SourceFile::new("scenarist.yaml", yaml), PathBuf::from("/")).unwrap();
    let (_, running) = sandbox::start(&workspace, Some(&data)).await.unwrap();
    assert_eq!(
        files_under(&root),
        [Path::new("a/b/data/zendesk-sandbox-acme.json")]
    );
    #[cfg(unix)]
    assert_eq!(mode(&data.join("zendesk-sandbox-acme.json")), "600");
    drop(running);
}
