//! The HTTP sender against a real receiver on a loopback port: the exact signed bytes arrive,
//! and each kind of failure is classified retryable or not.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::post;
use tocsin::notify::contact::{ContactKind, ContactMethod};
use tocsin::notify::webhook::{self, DEFAULT_TOLERANCE};
use tocsin::notify::{self, chat};

use super::{now, page};

/// What the local receiver saw.
type Seen = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

/// A receiver on a loopback port: `/ok` 200, `/down` 500, `/slow-down` 429 with Retry-After,
/// `/bad` 400 with Slack's error text, `/moved` a redirect.
async fn receiver() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let record =
        |status: StatusCode, extra: &'static [(&'static str, &'static str)], text: &'static str| {
            let seen = seen.clone();
            post(move |headers: HeaderMap, body: Bytes| async move {
                seen.lock().expect("lock").push((headers, body));
                let mut resp = (status, text).into_response();
                for (k, v) in extra {
                    resp.headers_mut()
                        .insert(*k, header::HeaderValue::from_static(v));
                }
                resp
            })
        };
    let app = Router::new()
        .route("/ok", record(StatusCode::OK, &[], "ok"))
        .route(
            "/down",
            record(StatusCode::INTERNAL_SERVER_ERROR, &[], "rollup_error"),
        )
        .route(
            "/slow-down",
            record(StatusCode::TOO_MANY_REQUESTS, &[("retry-after", "7")], ""),
        )
        .route(
            "/bad",
            record(StatusCode::BAD_REQUEST, &[], "invalid_payload"),
        )
        .route(
            "/moved",
            record(StatusCode::FOUND, &[("location", "/ok")], ""),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), seen)
}

#[tokio::test]
async fn sender_delivers_the_exact_signed_payload() {
    let (base, seen) = receiver().await;
    let client = notify::client().expect("client");
    let method = ContactMethod {
        id: "cm1".into(),
        person: "jon-doe".into(),
        kind: ContactKind::Webhook,
        target: format!("{base}/ok"),
        secret: Some("whsec_1".into()),
        created_at: now(),
        verified_at: None,
    };
    let out = notify::prepare(&method, &page(), now()).expect("http channel");
    let mut headers = out.headers.clone();
    headers.push((
        notify::IDEMPOTENCY_HEADER,
        "a1b2c3d4e5f6:0:0:jon-doe".into(),
    ));
    notify::send(&client, &out.url, out.body.clone(), &headers)
        .await
        .expect("200 is success");

    let seen = seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), 1);
    let (h, body) = &seen[0];
    assert_eq!(body.as_ref(), out.body.as_slice());
    let parsed: serde_json::Value = serde_json::from_slice(body).expect("json");
    assert_eq!(parsed, webhook::payload(&page()));
    assert_eq!(
        h.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    assert_eq!(
        h.get("x-tocsin-event").and_then(|v| v.to_str().ok()),
        Some("page")
    );
    assert_eq!(
        h.get("idempotency-key").and_then(|v| v.to_str().ok()),
        Some("a1b2c3d4e5f6:0:0:jon-doe")
    );
    let sig = h
        .get(webhook::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .expect("signed");
    assert_eq!(
        webhook::verify_signature(b"whsec_1", sig, body, now(), DEFAULT_TOLERANCE),
        Ok(())
    );

    // Chat channels carry no signature (the URL is the secret).
    let slack = ContactMethod {
        kind: ContactKind::Slack,
        secret: None,
        ..method.clone()
    };
    let out = notify::prepare(&slack, &page(), now()).expect("http channel");
    assert!(out.headers.is_empty());
    assert_eq!(out.body, chat::slack(&page()).to_string().into_bytes());
    let email = ContactMethod {
        kind: ContactKind::Email,
        ..method
    };
    assert!(notify::prepare(&email, &page(), now()).is_none());
}

#[tokio::test]
async fn sender_classifies_failures() {
    let (base, seen) = receiver().await;
    let client = notify::client().expect("client");
    let send = |path: &str| {
        let url = format!("{base}{path}");
        let client = client.clone();
        async move { notify::send(&client, &url, b"{}".to_vec(), &[]).await }
    };
    let e = send("/down").await.expect_err("500");
    assert!(e.retryable);
    assert_eq!(
        (e.status, e.reason.as_str()),
        (Some(500), "HTTP 500: rollup_error")
    );
    let e = send("/slow-down").await.expect_err("429");
    assert!(e.retryable);
    assert_eq!((e.status, e.retry_after), (Some(429), Some(7)));
    let e = send("/bad").await.expect_err("400");
    assert!(!e.retryable);
    assert_eq!(e.reason, "HTTP 400: invalid_payload");
    // Redirects are not followed: the receiver saw one request, not two.
    let e = send("/moved").await.expect_err("302");
    assert!(!e.retryable);
    assert_eq!(e.status, Some(302));
    assert_eq!(seen.lock().expect("lock").len(), 4);

    // Nobody listening: a network error, worth retrying.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let e = notify::send(&client, &format!("http://127.0.0.1:{port}/"), vec![], &[])
        .await
        .expect_err("refused");
    assert!(e.retryable, "{e}");
    assert!(!e.reason.contains("127.0.0.1"), "no URL in reasons: {e}");
    let e = notify::send(&client, "not a url", vec![], &[])
        .await
        .expect_err("bad url");
    assert!(!e.retryable, "{e}");
}
