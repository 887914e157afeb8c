//! Bad input never causes a server error: oversized, malformed and odd bodies on every write
//! endpoint, and odd paths on every route.

use super::*;

#[tokio::test]
async fn oversized_and_malformed_bodies_are_json_errors() {
    let t = sqlite().await;
    let (app, admin) = seeded(t.db.clone()).await;
    let huge = format!(
        r#"{{"id": "big", "name": "{}"}}"#,
        "x".repeat(1024 * 1024 + 10)
    );
    let (s, body) = app
        .send(raw("POST", "/api/v1/teams", &admin, huge.clone()))
        .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    assert_json_error(s, &body, "streamed huge body");
    // Real clients announce the length; the limit layer refuses before reading.
    let mut announced = raw("POST", "/api/v1/teams", &admin, huge.clone());
    announced
        .headers_mut()
        .insert(header::CONTENT_LENGTH, huge.len().into());
    assert_eq!(app.send(announced).await.0, StatusCode::PAYLOAD_TOO_LARGE);

    let (s, body) = app
        .send(raw("POST", "/api/v1/teams", &admin, r#"{"id": "x", "#))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_json_error(s, &body, "truncated");
    let no_type = Request::builder()
        .method("POST")
        .uri("/api/v1/teams")
        .header(header::AUTHORIZATION, format!("Bearer {admin}"))
        .body(Body::from(r#"{"id": "x", "name": "x"}"#))
        .unwrap();
    let (s, body) = app.send(no_type).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_json_error(s, &body, "no content type");
}

/// Bodies that are not JSON, not objects, or objects of the wrong shape.
fn odd_bodies() -> Vec<String> {
    let mut bodies: Vec<String> = [
        "",
        " ",
        "{",
        "}",
        r#"{"id": "#,
        r#"{"id": "x""#,
        "[]",
        "[{}]",
        "null",
        "0",
        "-1",
        "1e999",
        "true",
        r#""text""#,
        "{}",
        r#"{"id": null}"#,
        r#"{"id": 5, "name": 5}"#,
        r#"{"id": "a", "id": "b", "name": "dup"}"#,
        r#"{"level": -1, "name": "x"}"#,
        r#"{"level": 256, "name": "x"}"#,
        r#"{"level": 1.5, "name": "x"}"#,
        r#"{"level": "1", "name": "x"}"#,
        "\u{feff}{}",
        "\0",
        r#"{"id": "\ud800"}"#,
        "\u{ff}\u{fe}",
        r#"{"name": "x", "role": "root"}"#,
        r#"{"name": "", "role": "viewer"}"#,
        r#"{"name": "\u0000", "role": "viewer"}"#,
        r#"{"name": ["x"], "role": "viewer"}"#,
    ]
    .map(String::from)
    .to_vec();
    bodies.push(format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)));
    bodies.push(format!(
        r#"{{"id": "{}", "name": "x"}}"#,
        "a".repeat(500_000)
    ));
    bodies
}

/// Each field of a valid record replaced by values of the wrong type, size or alphabet.
fn mutations(record: &Value) -> Vec<Value> {
    let odd = [
        Value::Null,
        json!(""),
        json!(" "),
        json!(-1),
        json!(1e300),
        json!(true),
        json!([]),
        json!([null, 1, {}]),
        json!({"nested": {"deeper": []}}),
        json!("x".repeat(100_000)),
        json!("ünïcødé 名前 🚨 \u{202e}rtl"),
        json!("nul\u{0}byte"),
        json!("line\nbreak\ttab"),
        json!("../../etc/passwd"),
        json!("<script>alert(1)</script>"),
        json!("https://example.com"),
    ];
    let mut out = Vec::new();
    let Some(fields) = record.as_object() else {
        return out;
    };
    for key in fields.keys() {
        for value in &odd {
            let mut r = record.clone();
            r[key.as_str()] = value.clone();
            out.push(r);
        }
        let mut without = record.clone();
        without.as_object_mut().unwrap().remove(key);
        out.push(without);
    }
    out
}

#[tokio::test]
async fn odd_bodies_never_cause_a_server_error() {
    for t in backends().await {
        let (app, admin) = seeded(t.db.clone()).await;
        let mut checked = 0;
        let mut targets: Vec<(String, String, Value)> = new_records()
            .into_iter()
            .map(|(kind, id, r)| (format!("/api/v1/{kind}"), format!("/api/v1/{kind}/{id}"), r))
            .collect();
        targets.push((
            "/api/v1/tokens".into(),
            String::new(),
            json!({"name": "fuzz", "role": "viewer"}),
        ));
        // The PUT targets must exist for PUT to reach validation.
        for (kind, _, record) in new_records() {
            app.call(
                "POST",
                &format!("/api/v1/{kind}"),
                Some(&admin),
                Some(record),
            )
            .await;
        }
        for (collection, item, record) in &targets {
            let mutated = mutations(record);
            let bodies = odd_bodies()
                .into_iter()
                .chain(mutated.iter().map(Value::to_string));
            for body in bodies {
                let mut calls = vec![("POST", collection)];
                if !item.is_empty() {
                    calls.push(("PUT", item));
                }
                for (method, path) in calls {
                    let (s, reply) = app.send(raw(method, path, &admin, body.clone())).await;
                    let shown: String = body.chars().take(120).collect();
                    assert!(
                        !s.is_server_error(),
                        "{} {method} {path} {shown}: {s} {reply}",
                        t.backend
                    );
                    if s.is_client_error() {
                        assert_json_error(s, &reply, &shown);
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked > 1000, "{checked}");
        // The catalog is still valid and readable after all that.
        let catalog = tocsin::catalog::store::load(&t.db).await.unwrap();
        assert!(tocsin::catalog::validate::validate(&catalog).is_empty());
    }
}

#[tokio::test]
async fn odd_paths_never_cause_a_server_error() {
    for t in backends().await {
        let (app, admin) = seeded(t.db.clone()).await;
        let long = "a".repeat(5000);
        let odd = [
            "%FF",
            "%00",
            "..",
            "a%2Fb",
            "%20",
            "ünï",
            "%F0%9F%9A%A8",
            "-1",
            "99999999999999999999",
            &long,
        ];
        for (kind, _, record) in new_records() {
            for id in odd {
                let path = format!("/api/v1/{kind}/{id}");
                for method in ["GET", "PUT", "DELETE"] {
                    let body = (method == "PUT").then(|| record.clone());
                    let (s, reply) = app.call(method, &path, Some(&admin), body).await;
                    assert_json_error(
                        s,
                        &reply,
                        &format!("{method} {kind}/{}", &id[..id.len().min(20)]),
                    );
                }
            }
        }
        for id in odd {
            for path in [
                format!("/api/v1/services/{id}/impact"),
                format!("/api/v1/business-functions/{id}/dependencies"),
            ] {
                let (s, reply) = app.call("GET", &path, Some(&admin), None).await;
                assert_json_error(s, &reply, &path[..path.len().min(60)]);
            }
            let (s, reply) = app
                .call(
                    "DELETE",
                    &format!("/api/v1/tokens/{id}"),
                    Some(&admin),
                    None,
                )
                .await;
            assert_json_error(s, &reply, "token path");
        }
    }
}
