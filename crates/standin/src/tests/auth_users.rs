//! Credentials, common headers, routing, and the user endpoints.

use serde_json::{Value, json};

use super::{Api, basic, start};

#[tokio::test]
async fn good_credentials_see_the_agent() {
    let standin = start().await;
    let api = Api::new(&standin);
    for path in ["/api/v2/users/me.json", "/api/v2/users/me"] {
        let got = api.get(path).await;
        assert_eq!(got.status, 200);
        assert_eq!(got.json["user"]["role"], "admin");
        assert!(got.json["user"]["id"].as_u64().unwrap() >= 360_000_000_000);
        assert_eq!(got.json["user"]["email"], "agent@acme.example");
    }
    let bearer = api.with_auth(Some("Bearer standin-oauth-token"));
    let got = bearer.get("/api/v2/users/me.json").await;
    assert_eq!(got.json["user"]["role"], "admin");
    standin.stop().await;
}

#[tokio::test]
async fn bad_credentials_are_anonymous_on_me_and_401_elsewhere() {
    let standin = start().await;
    let sample: Value = serde_json::from_str(include_str!(
        "../../../../tests/fixtures/zendesk-samples/users_me_200_anonymous_when_token_invalid.json"
    ))
    .unwrap();
    let wrong = basic("agent@acme.example", "wrong");
    for auth in [
        Some(wrong.as_str()),
        None,
        Some("Bearer nope"),
        Some("Basic !!!"),
    ] {
        let api = Api::new(&standin).with_auth(auth);
        let got = api.get("/api/v2/users/me.json").await;
        assert_eq!(got.status, 200, "{auth:?}");
        assert_eq!(got.json, sample, "{auth:?}");
        for path in [
            "/api/v2/users/search.json?query=x",
            "/api/v2/tickets/4001.json",
        ] {
            let got = api.get(path).await;
            assert_eq!(got.status, 401);
            assert_eq!(got.json, json!({"error": "Couldn't authenticate you"}));
        }
        let got = api.post("/api/v2/tickets.json", &json!({})).await;
        assert_eq!(got.status, 401);
    }
    // The wrong email with the right token is wrong too.
    let api = Api::new(&standin).with_auth(Some(&basic("other@acme.example", "standin-token")));
    assert_eq!(api.get("/api/v2/tickets.json").await.status, 401);
    assert!(standin.tickets().is_empty());
}

#[tokio::test]
async fn common_headers_unknown_routes_and_bad_json() {
    let standin = start().await;
    let api = Api::new(&standin);
    let got = api.get("/api/v2/users/me.json").await;
    assert_eq!(got.header("x-rate-limit"), Some("700"));
    assert_eq!(got.header("x-rate-limit-remaining"), Some("699"));
    assert!(got.header("x-request-id").is_some_and(|v| !v.is_empty()));
    assert_eq!(
        got.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    let second = api.get("/api/v2/users/me.json").await;
    // 698, or 699 again when the minute turned in between.
    assert!(matches!(
        second.header("x-rate-limit-remaining"),
        Some("698" | "699")
    ));
    assert_ne!(second.header("x-request-id"), got.header("x-request-id"));

    for odd in [
        "/api/v2/tickets/%FF.json",
        "/api/v2/tickets/-1",
        "/api/v2/users/1e3",
    ] {
        let got = api.get(odd).await;
        assert_eq!(got.status, 404, "{odd}");
        assert_eq!(got.json["error"], "RecordNotFound", "{odd}");
    }
    let got = api.get("/api/v2/nothing/here.json").await;
    assert_eq!(got.status, 404);
    assert!(got.json["error"].is_string());
    assert_eq!(
        api.send(api.request(reqwest::Method::DELETE, "/api/v2/user_fields"))
            .await
            .status,
        404
    );

    let raw = api
        .request(reqwest::Method::POST, "/api/v2/tickets.json")
        .body("{not json");
    let got = api
        .send(raw.header("content-type", "application/json"))
        .await;
    assert_eq!(got.status, 400);
    assert!(got.json["error"].is_string());
    let got = api
        .post("/api/v2/users.json", &json!(["not", "an", "object"]))
        .await;
    assert_eq!(got.status, 400);

    let log = standin.requests();
    assert_eq!(log.len(), 9);
    assert_eq!(log[0].method, "GET");
    assert_eq!(log[0].path, "/api/v2/users/me.json");
    assert!(
        log[0]
            .headers
            .iter()
            .any(|(k, v)| k == "user-agent" && v == "scenarist-tests/1")
    );
    assert_eq!(log[7].body, b"{not json");
}

#[tokio::test]
async fn create_or_update_creates_then_updates() {
    let standin = start().await;
    let api = Api::new(&standin);
    let body = json!({"user": {"name": "Jane Doe", "email": "Jane@Example.com", "external_id": "CRM-1",
        "user_fields": {"order_number": "A-1"}}});
    let got = api.post("/api/v2/users/create_or_update.json", &body).await;
    assert_eq!(got.status, 201, "{}", got.text);
    let id = got.json["user"]["id"].as_u64().unwrap();
    assert!(id > 360_000_000_000);
    assert!(
        got.header("location")
            .unwrap()
            .ends_with(&format!("/api/v2/users/{id}.json"))
    );
    assert_eq!(
        got.json["user"]["user_fields"],
        json!({"order_number": "A-1", "vip": false})
    );
    assert_eq!(got.json["user"]["role"], "end-user");

    // Matched by external id (case-insensitive); fields merge; another email is a secondary
    // identity, the primary stays; a checked box adds its tag.
    let body = json!({"user": {"external_id": "crm-1", "email": "jane.new@example.com", "phone": "+15551234567",
        "user_fields": {"vip": true}}});
    let got = api.post("/api/v2/users/create_or_update", &body).await;
    assert_eq!(got.status, 200, "{}", got.text);
    let user = &got.json["user"];
    assert_eq!(user["id"].as_u64(), Some(id));
    assert_eq!(user["email"], "Jane@Example.com");
    assert_eq!(user["external_id"], "crm-1");
    assert_eq!(
        user["user_fields"],
        json!({"order_number": "A-1", "vip": true})
    );
    assert_eq!(user["tags"], json!(["vip"]));

    // Matched by email, also by the secondary one.
    let got = api
        .post(
            "/api/v2/users/create_or_update",
            &json!({"user": {"email": "JANE.NEW@example.com", "name": "Jane D."}}),
        )
        .await;
    assert_eq!(got.status, 200);
    assert_eq!(got.json["user"]["id"].as_u64(), Some(id));
    assert_eq!(got.json["user"]["name"], "Jane D.");

    let customers: Vec<_> = standin
        .users()
        .into_iter()
        .filter(|u| u.role == "end-user")
        .collect();
    assert_eq!(customers.len(), 1);
    assert_eq!(customers[0].phone.as_deref(), Some("+15551234567"));

    let got = api
        .post(
            "/api/v2/users/create_or_update",
            &json!({"user": {"email": "x@example.com", "user_fields": {"nope": 1}}}),
        )
        .await;
    assert_eq!(got.status, 422);
    assert!(got.json["details"]["user_fields"].is_array());
    let got = api
        .post(
            "/api/v2/users/create_or_update",
            &json!({"user": {"email": "new@example.com"}}),
        )
        .await;
    assert_eq!(got.status, 422, "a new user needs a name");
    assert_eq!(got.json["details"]["name"][0]["error"], "BlankError");
}

#[tokio::test]
async fn create_user_rejects_duplicates_and_blank_names() {
    let standin = start().await;
    let api = Api::new(&standin);
    let got = api
        .post(
            "/api/v2/users.json",
            &json!({"user": {"name": "Roger", "email": "roge@example.org"}}),
        )
        .await;
    assert_eq!(got.status, 201);
    let id = got.json["user"]["id"].as_u64().unwrap();
    let got = api
        .post(
            "/api/v2/users.json",
            &json!({"user": {"name": "Other", "email": "ROGE@example.org"}}),
        )
        .await;
    assert_eq!(got.status, 422);
    assert_eq!(got.json["error"], "RecordInvalid");
    let detail = &got.json["details"]["email"][0];
    assert_eq!(detail["error"], "DuplicateValue");
    assert_eq!(
        detail["description"],
        "Email: ROGE@example.org is already being used by another user"
    );
    let got = api
        .post(
            "/api/v2/users.json",
            &json!({"user": {"email": "a@example.org"}}),
        )
        .await;
    assert_eq!(got.status, 422);
    assert_eq!(got.json["details"]["name"][0]["error"], "BlankError");

    assert_eq!(
        api.get(&format!("/api/v2/users/{id}.json")).await.json["user"]["name"],
        "Roger"
    );
    let got = api.get("/api/v2/users/360999999999.json").await;
    assert_eq!(got.status, 404);
    assert_eq!(
        got.json,
        json!({"error": "RecordNotFound", "description": "Not found"})
    );
    assert_eq!(api.get("/api/v2/users/abc").await.status, 404);

    let got = api.get("/api/v2/user_fields.json").await;
    assert_eq!(got.json["count"], 2);
    assert_eq!(got.json["user_fields"][1]["key"], "vip");
    assert_eq!(got.json["user_fields"][1]["tag"], "vip");
}

#[tokio::test]
async fn search_is_fuzzy_and_external_id_is_exact() {
    let standin = start().await;
    let api = Api::new(&standin);
    for (name, email, phone, ext) in [
        ("Jane Doe", "jane@example.com", "+1 555 123 4567", "crm-1"),
        ("Janet Roe", "janet@example.com", "+15559999999", "crm-10"),
    ] {
        let body =
            json!({"user": {"name": name, "email": email, "phone": phone, "external_id": ext}});
        assert_eq!(api.post("/api/v2/users.json", &body).await.status, 201);
    }
    let names = |got: &super::Got| -> Vec<String> {
        got.json["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let search = |q: &str| {
        let api = &api;
        let q = q.to_owned();
        async move {
            api.send(
                api.request(reqwest::Method::GET, "/api/v2/users/search.json")
                    .query(&[("query", q)]),
            )
            .await
        }
    };
    assert_eq!(
        names(&search("email:\"jane@example.com\"").await),
        ["Jane Doe"]
    );
    assert_eq!(
        names(&search("type:user email:JANE@example.com").await),
        ["Jane Doe"]
    );
    // Fuzzy: "jane" is in both names — the client has to filter exactly.
    assert_eq!(names(&search("jane").await), ["Jane Doe", "Janet Roe"]);
    assert_eq!(
        names(&search("name:\"jane\"").await),
        ["Jane Doe", "Janet Roe"]
    );
    assert_eq!(names(&search("phone:+15551234567").await), ["Jane Doe"]);
    assert_eq!(
        names(&search("external_id:crm-1").await),
        ["Jane Doe", "Janet Roe"]
    );
    let got = search("nobody@example.com").await;
    assert_eq!(
        got.json,
        json!({"users": [], "next_page": null, "previous_page": null, "count": 0})
    );

    let got = api.get("/api/v2/users/search.json?external_id=CRM-1").await;
    assert_eq!(names(&got), ["Jane Doe"]);
    assert_eq!(got.json["count"], 1);
    let got = api.get("/api/v2/users.json?external_id=crm-10").await;
    assert_eq!(names(&got), ["Janet Roe"]);
    assert_eq!(api.get("/api/v2/users/search.json").await.status, 400);
}
