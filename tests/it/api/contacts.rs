//! Contact methods and notification rules over the API, on both backends: CRUD by an admin
//! token, a responder managing only the person their account is linked to (session cookie
//! plus CSRF header, as the browser calls it), viewers reading only their own, tokens of other
//! roles refused, bad input answered with the right 4xx, secrets shown once, audit entries.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use tocsin::auth::Role;

use crate::support::{TestApp, backends};
use crate::web::alerts::app_on;
use crate::web::client::{PASSWORD, fetch, sign_in};

/// A signed-in browser calling the API: its cookie and CSRF token.
struct Session {
    cookie: String,
    csrf: String,
}

impl Session {
    async fn new(app: &TestApp, user: &str) -> Self {
        let cookie = sign_in(app, user, PASSWORD).await;
        let csrf = fetch(app, "GET", "/", &cookie, None).await.csrf_field();
        Self { cookie, csrf }
    }

    async fn call(
        &self,
        app: &TestApp,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::COOKIE, &self.cookie)
            .header("x-csrf-token", &self.csrf)
            .header(header::CONTENT_TYPE, "application/json");
        let body = body.map_or_else(Body::empty, |v| Body::from(v.to_string()));
        app.send(req.body(body).unwrap()).await
    }
}

const JON: &str = "/api/v1/people/jon-doe";

#[tokio::test]
async fn admins_manage_contact_methods_and_rules_with_clear_errors() {
    for t in backends().await {
        let b = t.backend;
        let app = app_on(&t).await;
        let admin = app.token(Role::Admin).await;
        let a = Some(admin.as_str());
        let methods = format!("{JON}/contact-methods");
        let rules = format!("{JON}/notification-rules");

        let hook = json!({"kind": "webhook", "target": "https://hooks.example/tocsin"});
        let (s, created) = app.call("POST", &methods, a, Some(hook)).await;
        assert_eq!(s, StatusCode::CREATED, "{b}: {created}");
        let secret = created["secret"].as_str().expect("the secret, once");
        assert!(secret.starts_with("tcn_whsec_"), "{b}: {secret}");
        let hook_id = created["id"].as_str().unwrap().to_string();
        app.clock.advance(std::time::Duration::from_secs(1));
        let slack = json!({"kind": "slack", "target": "https://hooks.slack.com/services/T/B/X"});
        let (s, created) = app.call("POST", &methods, a, Some(slack)).await;
        assert_eq!(s, StatusCode::CREATED, "{b}: {created}");
        assert!(
            created.get("secret").is_none(),
            "{b}: only webhooks have a secret"
        );
        let slack_id = created["id"].as_str().unwrap().to_string();

        let (s, listed) = app.call("GET", &methods, a, None).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(listed.as_array().unwrap().len(), 2, "{b}: {listed}");
        assert!(!listed.to_string().contains(secret), "{b}: never listed");
        assert_eq!(listed[0]["kind"], "webhook", "{b}: oldest first");

        let bad_bodies = [
            (
                json!({"kind": "email", "target": "not-an-address"}),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                json!({"kind": "slack", "target": "ftp://x"}),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                json!({"kind": "pager", "target": "https://x.example"}),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (json!({"kind": "slack"}), StatusCode::UNPROCESSABLE_ENTITY),
            (
                json!({"kind": "slack", "target": "https://x.example", "extra": 1}),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
        ];
        for (body, want) in bad_bodies {
            let (s, err) = app.call("POST", &methods, a, Some(body.clone())).await;
            assert_eq!(s, want, "{b}: {body} → {err}");
            assert!(err["error"].is_string(), "{b}: {err}");
        }
        let req = Request::builder()
            .method("POST")
            .uri(&methods)
            .header(header::AUTHORIZATION, format!("Bearer {admin}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{not json"))
            .unwrap();
        let (s, err) = app.send(req).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{b}: {err}");
        let (s, _) = app
            .call(
                "POST",
                "/api/v1/people/nobody/contact-methods",
                a,
                Some(json!({"kind": "email", "target": "a@b.example"})),
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{b}: unknown person");
        let (s, _) = app
            .call("GET", "/api/v1/people/nobody/notification-rules", a, None)
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{b}");

        let (s, rule) = app
            .call(
                "POST",
                &rules,
                a,
                Some(json!({"contact_method": slack_id, "delay_minutes": 0})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}: {rule}");
        let (s, later) = app
            .call(
                "POST",
                &rules,
                a,
                Some(json!({"contact_method": hook_id, "delay_minutes": 2})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}: {later}");
        let (s, err) = app
            .call(
                "POST",
                &rules,
                a,
                Some(json!({"contact_method": slack_id, "delay_minutes": 0})),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{b}: the same rule twice: {err}");
        let (s, err) = app
            .call(
                "POST",
                &rules,
                a,
                Some(json!({"contact_method": hook_id, "delay_minutes": 5000})),
            )
            .await;
        assert_eq!(
            s,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{b}: over a day: {err}"
        );
        let (s, err) = app
            .call(
                "POST",
                &rules,
                a,
                Some(json!({"contact_method": hook_id, "delay_minutes": -1})),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}: negative: {err}");
        let (s, err) = app
            .call(
                "POST",
                "/api/v1/people/foo-bar/notification-rules",
                a,
                Some(json!({"contact_method": hook_id, "delay_minutes": 1})),
            )
            .await;
        assert_eq!(
            s,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{b}: someone else's method: {err}"
        );
        let (s, listed) = app.call("GET", &rules, a, None).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let delays: Vec<i64> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["delay_minutes"].as_i64().unwrap())
            .collect();
        assert_eq!(delays, [0, 2], "{b}: earliest first");

        let rule_id = rule["id"].as_str().unwrap();
        let (s, _) = app
            .call(
                "DELETE",
                &format!("/api/v1/notification-rules/{rule_id}"),
                a,
                None,
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT, "{b}");
        let (s, _) = app
            .call(
                "DELETE",
                &format!("/api/v1/notification-rules/{rule_id}"),
                a,
                None,
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{b}: gone");
        let (s, _) = app
            .call(
                "DELETE",
                &format!("/api/v1/contact-methods/{hook_id}"),
                a,
                None,
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT, "{b}");
        let (_, listed) = app.call("GET", &rules, a, None).await;
        assert_eq!(listed, json!([]), "{b}: a method's rules go with it");
        let (s, _) = app
            .call(
                "DELETE",
                &format!("/api/v1/contact-methods/{hook_id}"),
                a,
                None,
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{b}");

        let (_, audit) = app.call("GET", "/api/v1/audit?limit=50", a, None).await;
        let actions: Vec<&str> = audit
            .as_array()
            .expect("audit entries")
            .iter()
            .filter_map(|e| e["action"].as_str())
            .collect();
        for want in [
            "contact.create",
            "contact.delete",
            "rule.create",
            "rule.delete",
        ] {
            assert!(
                actions.contains(&want),
                "{b}: audit has {want}: {actions:?}"
            );
        }
        assert!(
            !audit.to_string().contains("hooks.slack.com"),
            "{b}: targets stay out of the audit log"
        );
    }
}

#[tokio::test]
async fn people_manage_only_their_own_and_tokens_need_admin() {
    for t in backends().await {
        let b = t.backend;
        let app = app_on(&t).await;
        // The responder account is Jon Doe's; the viewer account is Foo Bar's.
        let jon = Session::new(&app, "responder").await;
        let foo = Session::new(&app, "viewer").await;
        let mine = format!("{JON}/contact-methods");
        let email = json!({"kind": "email", "target": "jon@shop.example"});

        let (s, created) = jon.call(&app, "POST", &mine, Some(email.clone())).await;
        assert_eq!(s, StatusCode::CREATED, "{b}: {created}");
        let method = created["id"].as_str().unwrap().to_string();
        let (s, rule) = jon
            .call(
                &app,
                "POST",
                &format!("{JON}/notification-rules"),
                Some(json!({"contact_method": method, "delay_minutes": 3})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}: {rule}");
        let (s, listed) = jon.call(&app, "GET", &mine, None).await;
        assert_eq!(
            (s, listed.as_array().map(Vec::len)),
            (StatusCode::OK, Some(1)),
            "{b}"
        );

        // Someone else's: refused, reading included (targets are secrets).
        let others = "/api/v1/people/foo-bar/contact-methods";
        let (s, _) = jon.call(&app, "POST", others, Some(email.clone())).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
        let (s, _) = jon.call(&app, "GET", others, None).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
        let (s, _) = foo.call(&app, "GET", &mine, None).await;
        assert_eq!(
            s,
            StatusCode::FORBIDDEN,
            "{b}: a viewer reads only their own"
        );
        let (s, _) = foo
            .call(
                &app,
                "DELETE",
                &format!("/api/v1/contact-methods/{method}"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
        let rule_id = rule["id"].as_str().unwrap();
        let (s, _) = foo
            .call(
                &app,
                "DELETE",
                &format!("/api/v1/notification-rules/{rule_id}"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
        // A viewer reads their own but cannot change it.
        let (s, _) = foo.call(&app, "GET", others, None).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let (s, _) = foo.call(&app, "POST", others, Some(email.clone())).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{b}");

        // A cookie-authenticated write without the CSRF header is refused.
        let no_csrf = Session {
            cookie: jon.cookie.clone(),
            csrf: String::new(),
        };
        let (s, _) = no_csrf.call(&app, "POST", &mine, Some(email.clone())).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{b}: csrf");

        // Tokens belong to nobody: only admin tokens get in.
        let responder = app.token(Role::Responder).await;
        let (s, _) = app.call("GET", &mine, Some(&responder), None).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
        let (s, _) = app.call("GET", &mine, None, None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{b}");

        let (s, _) = jon
            .call(
                &app,
                "DELETE",
                &format!("/api/v1/notification-rules/{rule_id}"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT, "{b}");
        let (s, _) = jon
            .call(
                &app,
                "DELETE",
                &format!("/api/v1/contact-methods/{method}"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT, "{b}");
    }
}
