//! The live event stream of an incident page: its content type, the header's state on
//! connect, a new entry as the page's own markup (event id = entry id), a change nobody
//! signalled found by the periodic check, resuming with `Last-Event-ID`, and the end of every
//! stream when the server stops.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tocsin::clock::Clock;
use tocsin::incidents::{Status, store};
use tower::ServiceExt;

use super::{declare, post, session};
use crate::support::{TestApp, backends};
use crate::web::alerts::app_on;
use crate::web::client::enc;

/// An open event stream: reads frames as they come.
struct Stream {
    body: Body,
    seen: String,
}

impl Stream {
    async fn open(
        app: &TestApp,
        cookie: &str,
        path: &str,
        last_event: Option<i64>,
    ) -> (StatusCode, String, Self) {
        let mut req = Request::builder().uri(path).header(header::COOKIE, cookie);
        if let Some(id) = last_event {
            req = req.header("last-event-id", id.to_string());
        }
        let response = app
            .router
            .clone()
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let kind = response
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (
            status,
            kind,
            Self {
                body: response.into_body(),
                seen: String::new(),
            },
        )
    }

    /// Reads until the text so far contains `want`, for at most `within`; the text read.
    async fn until(&mut self, want: &str, within: Duration) -> &str {
        let deadline = tokio::time::Instant::now() + within;
        while !self.seen.contains(want) {
            match tokio::time::timeout_at(deadline, self.body.frame()).await {
                Ok(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        self.seen.push_str(&String::from_utf8_lossy(&data));
                    }
                }
                Ok(other) => panic!(
                    "stream ended ({other:?}) without {want:?}; got:\n{}",
                    self.seen
                ),
                Err(_) => panic!("no {want:?} within {within:?}; got:\n{}", self.seen),
            }
        }
        &self.seen
    }
}

#[tokio::test]
async fn the_event_stream_sends_new_entries_and_state() {
    for t in backends().await {
        let b = t.backend;
        let app = app_on(&t).await;
        let (jon, csrf) = session(&app, "responder").await;
        let (viewer, _) = session(&app, "viewer").await;
        let id = declare(
            &app,
            &jon,
            &csrf,
            "title=Checkout+down&service=checkout-api",
        )
        .await;
        let events = format!("/incidents/{id}/events");
        let (status, kind, mut stream) = Stream::open(&app, &viewer, &events, None).await;
        assert_eq!(status, StatusCode::OK, "{b}");
        assert_eq!(kind, "text/event-stream", "{b}");
        // On connect: the header's state, and no old entry (the page already has those).
        let first = stream
            .until(r#""status":"investigating""#, Duration::from_secs(10))
            .await;
        assert!(first.contains("event: state"), "{b}: {first}");
        assert!(!first.contains("event: entry"), "{b}: {first}");

        // A note posted through the form arrives as its rendered entry, id = entry id.
        let r = post(
            &app,
            &jon,
            &format!("/incidents/{id}/notes"),
            &format!(
                "csrf={}&kind=decision&body=Roll+back+release+42",
                enc(&csrf)
            ),
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{b}: {}", r.body);
        let full = store::full(&t.db, id).await.unwrap();
        let entry = full.timeline.last().unwrap().id;
        let got = stream
            .until("Roll back release 42", Duration::from_secs(10))
            .await;
        assert!(
            got.contains(&format!(
                "event: entry\nid: {entry}\ndata: <li id=\"entry-{entry}\""
            )),
            "{b}: one entry event, its id the entry's, its data the page's markup: {got}"
        );
        assert!(
            got.contains(&format!(r#"<li id="entry-{entry}""#)),
            "{b}: the page's markup: {got}"
        );
        assert!(
            !got.contains("star-form"),
            "{b}: a viewer's stream has no star buttons"
        );

        // A change nobody signals (another instance wrote it) shows on the periodic check.
        let snap = app.state.catalog().await.unwrap();
        let actor = tocsin::incidents::command::Actor::system();
        let ctx = tocsin::incidents::command::Ctx {
            db: &t.db,
            snap: &snap,
            now: app.clock.now_ms(),
            actor: &actor,
            base_url: "http://t",
        };
        tocsin::incidents::command::set_status(&ctx, id, Status::Monitoring, "Rolled back")
            .await
            .unwrap();
        let got = stream
            .until(r#""status":"monitoring""#, Duration::from_secs(10))
            .await;
        assert!(
            got.contains("Status: investigating → <strong>monitoring</strong>"),
            "{b}: {got}"
        );

        // Reconnecting with Last-Event-ID resumes after that entry.
        let (status, _, mut resumed) = Stream::open(&app, &jon, &events, Some(entry)).await;
        assert_eq!(status, StatusCode::OK, "{b}");
        let got = resumed.until("Rolled back", Duration::from_secs(10)).await;
        assert!(
            !got.contains("Roll back release 42"),
            "{b}: nothing before the resume point: {got}"
        );
        assert!(
            got.contains("star-form"),
            "{b}: responders get the star button"
        );
        let (status, _, _) = Stream::open(&app, &jon, "/incidents/999/events", None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{b}");

        // Stopping the server ends open streams, so a graceful shutdown does not hang.
        app.state.live.stop();
        let end = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match stream.body.frame().await {
                    None => return true,
                    Some(Err(_)) => return false,
                    Some(Ok(_)) => {}
                }
            }
        })
        .await;
        assert_eq!(end, Ok(true), "{b}: the stream ends on stop");
    }
}
