//! Rich messages over HTTP: the answer to a message carries each reply's typed `parts` next
//! to its plain-text fallback, as `schemas/openapi.yaml` describes them, and a duplicate
//! delivery gets the same parts back (they are kept in the history).

use serde_json::{Value, json};

use crate::service::Server;
use crate::service_openapi::Doc;
use crate::support::tempdir;

const RICH: &str = r#"
scenario rich {
  start welcome

  step welcome {
    say one of "Hello!", "Hi there!"
    link "Track it" "https://acme.example/t/{contact.order_number}"
    image "https://acme.example/map.png" "Map of the shop"
    card "Your order" {
      text "Shipped today"
      image "https://acme.example/p.png" "Parcel"
      link "Track" "https://acme.example/t"
    }
    end
  }
}
"#;

/// The example workspace with `webchat:acme` running the scenario above.
fn config(dir: &std::path::Path) -> std::path::PathBuf {
    std::fs::write(dir.join("rich.scn"), RICH).unwrap();
    crate::service::example_config(
        dir,
        &[(
            "  webchat:acme:\n    channel: webchat\n    scenario: after_hours\n",
            "  webchat:acme:\n    channel: webchat\n    scenario: rich\n",
        )],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_answer_carries_typed_parts_and_a_text_fallback() {
    let dir = tempdir();
    let server = Server::start_with(Some(&config(&dir)), &dir.join("data"));
    let message = json!({
        "account": "webchat:acme",
        "conversation": "r-1",
        "message_id": "m-1",
        "contact": { "id": "u-r-1", "name": "Ada", "fields": { "order_number": "AB 12" } },
        "text": "Hi",
    });
    let (status, answer) = server.post("/v1/messages", &message).await;
    assert_eq!(status, 200, "{answer}");
    Doc::load().check_response("post", "/v1/messages", status, &answer);
    let replies = answer["replies"].as_array().unwrap();
    assert_eq!(replies.len(), 4, "{answer}");
    assert_eq!(replies[0]["parts"], json!([]), "a variant is plain text");
    assert_eq!(
        replies[1],
        json!({
            "text": "Track it: https://acme.example/t/AB%2012",
            "choices": [],
            "parts": [{ "type": "link", "label": "Track it", "url": "https://acme.example/t/AB%2012" }],
        })
    );
    assert_eq!(
        replies[2]["parts"],
        json!([{ "type": "image", "url": "https://acme.example/map.png", "alt": "Map of the shop" }])
    );
    assert_eq!(
        replies[3]["parts"],
        json!([{
            "type": "card",
            "title": "Your order",
            "text": "Shipped today",
            "image": { "url": "https://acme.example/p.png", "alt": "Parcel" },
            "links": [{ "label": "Track", "url": "https://acme.example/t" }],
        }])
    );
    assert!(
        replies[3]["text"]
            .as_str()
            .unwrap()
            .starts_with("Your order\nShipped today"),
        "{answer}"
    );

    let (_, again): (u16, Value) = server.post("/v1/messages", &message).await;
    assert_eq!(again["duplicate"], true);
    assert_eq!(
        again["replies"], answer["replies"],
        "the history keeps the parts"
    );

    // The conversation's history shows them too, as the OpenAPI document describes.
    let (status, conversation) = server.get("/v1/conversations/r-1").await;
    Doc::load().check_response("get", "/v1/conversations/{id}", status, &conversation);
    let bot: Vec<&Value> = conversation["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["author"] == "bot")
        .collect();
    assert_eq!(bot.len(), 4, "{conversation}");
    assert_eq!(bot[1]["parts"], replies[1]["parts"], "{conversation}");
    assert_eq!(bot[3]["parts"][0]["type"], "card", "{conversation}");
}

#[test]
fn chat_shows_the_parts_of_a_rich_message_not_its_fallback() {
    let dir = tempdir();
    let config = config(&dir);
    let data = dir.join("chat");
    let output = crate::runtime_cli::run_with_input(
        &[
            "--config",
            config.to_str().unwrap(),
            "chat",
            "--account",
            "webchat:acme",
            "--field",
            "order_number=AB1",
            "--data",
            data.to_str().unwrap(),
            dir.join("rich.scn").to_str().unwrap(),
        ],
        "hi\n",
    );
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{text}");
    let expected = "bot: link: Track it -> https://acme.example/t/AB1\n\
        bot: image: Map of the shop -> https://acme.example/map.png\n\
        bot: card: Your order\n       Shipped today\n       \
        image: Parcel -> https://acme.example/p.png\n       link: Track -> https://acme.example/t\n";
    assert!(text.contains(expected), "{text}");
    assert!(
        !text.contains("Track it: https://"),
        "the fallback is not shown: {text}"
    );
}
