//! A browser without JavaScript, in-process: requests with cookies and urlencoded forms,
//! signing in through the real login form, and the example organisation with accounts.

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use tocsin::auth::Role;
use tower::ServiceExt;

use crate::support::{TestApp, TestDb, seed_example, sqlite};

pub const PASSWORD: &str = "correct horse battery";

/// A response as a browser sees it: status, headers, body text.
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The value part of the `Set-Cookie` for `name` ("name=value").
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next())
            .find(|kv| kv.starts_with(&format!("{name}=")))
            .map(str::to_string)
    }

    /// The value of the first hidden `csrf` field (login form, or the sign-out form).
    pub fn csrf_field(&self) -> String {
        let marker = r#"name="csrf" value=""#;
        let start = self.body.find(marker).expect("a csrf field") + marker.len();
        let len = self.body[start..].find('"').expect("end of csrf value");
        self.body[start..start + len].to_string()
    }

    pub fn assert_ok_html(&self, what: &str) {
        assert_eq!(self.status, StatusCode::OK, "{what}: {}", self.body);
        assert!(
            self.header(header::CONTENT_TYPE).starts_with("text/html"),
            "{what} is HTML"
        );
    }
}

/// Sends a request from 127.0.0.1 with `cookie` (if any) and, for forms, a urlencoded body.
pub async fn fetch(
    app: &TestApp,
    method: &str,
    path: &str,
    cookie: &str,
    form: Option<&str>,
) -> Page {
    let mut req = Request::builder().method(method).uri(path);
    if !cookie.is_empty() {
        req = req.header(header::COOKIE, cookie);
    }
    let body = match form {
        Some(f) => {
            req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            Body::from(f.to_string())
        }
        None => Body::empty(),
    };
    let mut req = req.body(body).expect("request");
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            [127, 0, 0, 1],
            9,
        ))));
    let response = app.router.clone().oneshot(req).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    Page {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

pub fn enc(s: &str) -> String {
    tocsin::auth::extract::encode(s)
}

/// Opens the login form and posts it; returns the form's response and its CSRF cookie.
pub async fn post_login(app: &TestApp, user: &str, password: &str) -> Page {
    let form = fetch(app, "GET", "/login?next=/services", "", None).await;
    form.assert_ok_html("login form");
    let cookie = form
        .set_cookie("tocsin_login_csrf")
        .expect("login csrf cookie");
    let body = format!(
        "username={}&password={}&csrf={}&next={}",
        enc(user),
        enc(password),
        enc(&form.csrf_field()),
        enc("/services"),
    );
    fetch(app, "POST", "/login", &cookie, Some(&body)).await
}

/// Signs in through the real form and returns the `Cookie` header for the session.
pub async fn sign_in(app: &TestApp, user: &str, password: &str) -> String {
    let r = post_login(app, user, password).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "sign-in: {}", r.body);
    assert_eq!(r.header(header::LOCATION), "/services");
    r.set_cookie("tocsin_session").expect("session cookie")
}

/// The example organisation with an account of each `role`, named after it. The database
/// handle keeps the temporary file alive for the test.
pub async fn app_with(roles: &[Role]) -> (TestApp, TestDb) {
    let t = sqlite().await;
    seed_example(&t.db).await;
    for role in roles {
        tocsin::auth::accounts::set_account(&t.db, role.as_str(), *role, None, PASSWORD, "test")
            .await
            .expect("account");
    }
    (TestApp::new(t.db.clone()), t)
}
