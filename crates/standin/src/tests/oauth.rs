//! The OAuth authorization-code flow.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{Api, Got, start};

const REDIRECT: &str = "http://127.0.0.1:9/callback";

/// Follows the authorize step; returns the redirect's query parameters.
async fn authorize(api: &Api, client_id: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", REDIRECT),
        ("state", "csrf 1"),
        ("scope", "read write"),
    ];
    params.extend_from_slice(extra);
    let request = api
        .request(reqwest::Method::GET, "/oauth/authorizations/new")
        .query(&params);
    let got = api.send(request).await;
    assert_eq!(got.status, 302, "{}", got.text);
    let location = reqwest::Url::parse(got.header("location").unwrap()).unwrap();
    assert_eq!(location.path(), "/callback");
    location
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

async fn exchange(api: &Api, body: &Value) -> Got {
    api.post("/oauth/tokens", body).await
}

#[tokio::test]
async fn code_flow_issues_a_working_token() {
    let standin = start().await;
    let api = Api::new(&standin).with_auth(None);
    let params = authorize(&api, "scenarist", &[]).await;
    assert_eq!(param(&params, "state"), Some("csrf 1"));
    let code = param(&params, "code").unwrap().to_owned();
    let body = json!({"grant_type": "authorization_code", "code": code, "client_id": "scenarist",
        "client_secret": "standin-secret", "redirect_uri": REDIRECT, "scope": "read write"});
    let got = exchange(&api, &body).await;
    assert_eq!(got.status, 201, "{}", got.text);
    assert_eq!(got.json["token_type"], "bearer");
    assert_eq!(got.json["scope"], "read write");
    let token = got.json["access_token"].as_str().unwrap().to_owned();
    let refresh = got.json["refresh_token"].as_str().unwrap().to_owned();

    let bearer = format!("Bearer {token}");
    let authed = Api::new(&standin).with_auth(Some(&bearer));
    assert_eq!(
        authed.get("/api/v2/users/me.json").await.json["user"]["role"],
        "admin"
    );
    assert_eq!(authed.get("/api/v2/tickets.json").await.status, 200);

    // Codes are single-use.
    let again = exchange(&api, &body).await;
    assert_eq!(again.status, 400);
    assert_eq!(again.json["error"], "invalid_grant");

    // Refresh rotates both tokens; the old access token stops working.
    let got = exchange(
        &api,
        &json!({"grant_type": "refresh_token", "refresh_token": refresh,
        "client_id": "scenarist", "client_secret": "standin-secret"}),
    )
    .await;
    assert_eq!(got.status, 201, "{}", got.text);
    assert_ne!(got.json["access_token"].as_str(), Some(token.as_str()));
    assert_eq!(authed.get("/api/v2/tickets.json").await.status, 401);
    let again = exchange(
        &api,
        &json!({"grant_type": "refresh_token", "refresh_token": refresh,
        "client_id": "scenarist", "client_secret": "standin-secret"}),
    )
    .await;
    assert_eq!(again.status, 400);
}

#[tokio::test]
async fn bad_secrets_codes_and_clients_are_refused() {
    let standin = start().await;
    let api = Api::new(&standin).with_auth(None);
    let params = authorize(&api, "someone-else", &[]).await;
    assert_eq!(param(&params, "error"), Some("invalid_client"));
    assert_eq!(param(&params, "code"), None);
    assert_eq!(param(&params, "state"), Some("csrf 1"));

    let code = param(&authorize(&api, "scenarist", &[]).await, "code")
        .unwrap()
        .to_owned();
    let mut body = json!({"grant_type": "authorization_code", "code": code, "client_id": "scenarist",
        "client_secret": "wrong", "redirect_uri": REDIRECT});
    let got = exchange(&api, &body).await;
    assert_eq!(got.status, 401);
    assert_eq!(got.json["error"], "invalid_client");
    body["client_secret"] = json!("standin-secret");
    body["code"] = json!("not-a-code");
    assert_eq!(exchange(&api, &body).await.status, 400);

    // Codes live 120 s.
    let code = param(&authorize(&api, "scenarist", &[]).await, "code")
        .unwrap()
        .to_owned();
    standin.advance_clock(121);
    body["code"] = json!(code);
    let got = exchange(&api, &body).await;
    assert_eq!(got.status, 400);
    assert_eq!(got.json["error"], "invalid_grant");

    // A redirect URI other than the authorize request's is refused.
    let code = param(&authorize(&api, "scenarist", &[]).await, "code")
        .unwrap()
        .to_owned();
    body["code"] = json!(code);
    body["redirect_uri"] = json!("http://127.0.0.1:9/elsewhere");
    assert_eq!(exchange(&api, &body).await.status, 400);

    let malformed = api
        .request(reqwest::Method::POST, "/oauth/tokens")
        .body("{");
    assert_eq!(api.send(malformed).await.status, 400);
}

#[tokio::test]
async fn pkce_is_checked_when_a_challenge_was_given() {
    let standin = start().await;
    let api = Api::new(&standin).with_auth(None);
    let verifier = "a-long-random-verifier-string-0123456789";
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let extra = [
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let body = |code: &str, verifier: &str| {
        json!({"grant_type": "authorization_code", "code": code, "client_id": "scenarist",
            "client_secret": "standin-secret", "redirect_uri": REDIRECT, "code_verifier": verifier})
    };
    // A wrong verifier, and none at all, are refused; the code is spent either way.
    for wrong in [json!("wrong"), json!(challenge), Value::Null] {
        let code = param(&authorize(&api, "scenarist", &extra).await, "code")
            .unwrap()
            .to_owned();
        let mut refused = body(&code, "");
        refused["code_verifier"] = wrong.clone();
        let got = exchange(&api, &refused).await;
        assert_eq!(got.status, 400, "{wrong}: {}", got.text);
        assert_eq!(got.json["error"], "invalid_grant");
        let again = exchange(&api, &body(&code, verifier)).await;
        assert_eq!(again.status, 400, "the code is spent: {}", again.text);
    }
    let code = param(&authorize(&api, "scenarist", &extra).await, "code")
        .unwrap()
        .to_owned();
    assert_eq!(exchange(&api, &body(&code, verifier)).await.status, 201);
}

#[tokio::test]
async fn pkce_methods_other_than_s256_are_refused_at_authorize() {
    let standin = start().await;
    let api = Api::new(&standin).with_auth(None);
    for extra in [
        &[
            ("code_challenge", "abc"),
            ("code_challenge_method", "plain"),
        ][..],
        &[("code_challenge", "abc")][..],
        &[("code_challenge_method", "S256")][..],
    ] {
        let params = authorize(&api, "scenarist", extra).await;
        assert_eq!(
            param(&params, "error"),
            Some("invalid_request"),
            "{extra:?}"
        );
        assert_eq!(param(&params, "code"), None);
        assert_eq!(param(&params, "state"), Some("csrf 1"));
    }
}
