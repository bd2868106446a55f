//! OAuth tokens that expire, against the stand-in over loopback HTTP: the client renews an
//! expired access token once with the refresh token, sends the refused request once more and
//! keeps the new pair in the token file (owner-only); when the refresh token is refused too,
//! the organization is reported as needing `reauthorize` and the dead refresh token is not
//! sent again, until a new token set is written to the file, which is then picked up.

use std::path::Path;
use std::sync::Arc;

use scenarist::zendesk::client::{Credentials, Timeouts, ZendeskClient, ZendeskError};
use scenarist::zendesk::secret::Secret;
use scenarist::zendesk::session::TokenSession;
use scenarist::zendesk::token_file::TokenSet;
use scenarist_lang::config::base_url::BaseUrl;
use zendesk_standin::{StandIn, StandInConfig};

use crate::support::tempdir;

const REDIRECT: &str = "http://127.0.0.1:9/callback";
/// The stand-in's default refresh-token lifetime (30 days, Zendesk's default).
const REFRESH_LIFETIME: i64 = 2_592_000;

/// A token set from the stand-in's authorization-code flow whose access token lives
/// `expires_in` seconds on the stand-in clock.
async fn issue(standin: &StandIn, expires_in: i64) -> TokenSet {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let authorize = http
        .get(format!(
            "{}/oauth/authorizations/new?response_type=code&client_id=scenarist&redirect_uri={REDIRECT}&scope=read%20write",
            standin.url()
        ))
        .send()
        .await
        .unwrap();
    let location = authorize.headers()["location"].to_str().unwrap().to_owned();
    let code = reqwest::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let answer: serde_json::Value = http
        .post(format!("{}/oauth/tokens", standin.url()))
        .json(&serde_json::json!({
            "grant_type": "authorization_code", "code": code, "client_id": "scenarist",
            "client_secret": "standin-secret", "redirect_uri": REDIRECT, "expires_in": expires_in,
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    TokenSet {
        access: Secret::new(answer["access_token"].as_str().unwrap()),
        refresh: Some(Secret::new(answer["refresh_token"].as_str().unwrap())),
        expires_at: None,
        refresh_expires_at: None,
    }
}

fn client(standin: &StandIn, path: &Path) -> (ZendeskClient, Arc<TokenSession>) {
    let session = Arc::new(
        TokenSession::open(
            "acme",
            BaseUrl::parse(&standin.url()).unwrap(),
            path.to_path_buf(),
            "scenarist".to_owned(),
            Ok(Secret::new("standin-secret")),
        )
        .unwrap(),
    );
    let client = ZendeskClient::new(
        &standin.url(),
        Credentials::OAuth(Arc::clone(&session)),
        Timeouts::default(),
    )
    .unwrap();
    (client, session)
}

/// `METHOD path` of the requests after the first `skip`, control requests left out.
fn calls(standin: &StandIn, skip: usize) -> Vec<String> {
    standin
        .requests()
        .into_iter()
        .skip(skip)
        .filter(|r| !r.path.starts_with("/__standin"))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_access_token_is_renewed_once_and_the_request_sent_once_more() {
    let standin = StandIn::start(0, StandInConfig::default()).await.unwrap();
    let dir = tempdir();
    let path = dir.join("zendesk").join("acme.token");
    let first = issue(&standin, 600).await;
    first.write(&path).unwrap();
    let (client, session) = client(&standin, &path);
    assert!(client.ticket_field(1).await.unwrap().is_none());

    standin.advance_clock(601);
    let before = standin.requests().len();
    assert!(client.ticket_field(1).await.unwrap().is_none());
    assert_eq!(
        calls(&standin, before),
        [
            "GET /api/v2/ticket_fields/1",
            "POST /oauth/tokens",
            "GET /api/v2/ticket_fields/1",
        ]
    );
    // The new pair is kept, whole, owner-only; the old one is dead at Zendesk.
    let kept = TokenSet::read(&path).unwrap();
    assert_ne!(kept.access, first.access);
    assert_ne!(kept.refresh, first.refresh);
    assert!(kept.expires_at.is_some() && kept.refresh_expires_at.is_some());
    assert_eq!(session.access(), kept.access);
    assert!(client.reauthorize_needed().is_none());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // users/me answers a refused token with the anonymous user, not a 401: renewed too.
    standin.advance_clock(601);
    let me = client.me().await.unwrap();
    assert!(me.id.is_some(), "{me:?}");
    assert_ne!(TokenSet::read(&path).unwrap().access, kept.access);
    standin.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_refresh_needs_reauthorize_until_a_new_token_is_written() {
    let standin = StandIn::start(0, StandInConfig::default()).await.unwrap();
    let dir = tempdir();
    let path = dir.join("zendesk").join("acme.token");
    issue(&standin, 600).await.write(&path).unwrap();
    let (client, _session) = client(&standin, &path);
    // Both the access token and the refresh token have expired.
    standin.advance_clock(REFRESH_LIFETIME + 1);
    let before = standin.requests().len();
    let error = client.ticket_field(1).await.unwrap_err();
    assert!(
        matches!(&error, ZendeskError::Reauthorize { organization, .. } if organization == "acme"),
        "{error:?}"
    );
    assert!(error.retryable(), "kept for after the reauthorization");
    let shown = error.to_string();
    assert!(
        shown.contains("scenarist zendesk reauthorize acme"),
        "{shown}"
    );
    let reason = client.reauthorize_needed().unwrap();
    assert!(
        reason.contains("refresh token was not accepted"),
        "{reason}"
    );
    // The dead refresh token is not sent again.
    let _ = client.ticket_field(1).await.unwrap_err();
    let refreshes = calls(&standin, before)
        .into_iter()
        .filter(|call| call == "POST /oauth/tokens")
        .count();
    assert_eq!(refreshes, 1);
    // No token in what is shown.
    let tokens = TokenSet::read(&path).unwrap();
    for text in [&shown, &reason] {
        assert!(!text.contains(tokens.access.expose()), "{text}");
    }

    // `scenarist zendesk reauthorize` writes a new set: picked up, and reported healthy again.
    issue(&standin, 600).await.write(&path).unwrap();
    assert!(client.ticket_field(1).await.unwrap().is_none());
    assert!(client.reauthorize_needed().is_none());
    standin.stop().await;
}
